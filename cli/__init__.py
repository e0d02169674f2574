"""Command-line interface: the `flask --app app pipeline ...` commands."""
