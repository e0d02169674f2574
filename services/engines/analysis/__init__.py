"""analysis engines."""
