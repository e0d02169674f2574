"""Pluggable back ends a stage picks by name (speech recognition, analysis, narrative, TTS)."""
