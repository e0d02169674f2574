"""The work: stages, engines, the pipeline controller. No Flask request objects here."""
