"""Test helpers: tiny generated media and a way to run one stage outside the pipeline."""
