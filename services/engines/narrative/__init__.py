"""narrative engines."""
