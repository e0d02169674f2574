"""Running stages: options, validation, the controller, the worker process and events."""
