"""Evaluation of speech recognition and pipeline output on real recorded speech."""
