"""celery."""
