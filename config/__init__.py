"""Settings, built-in prompts and presets."""
