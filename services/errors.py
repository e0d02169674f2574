"""ClientError: a request the services refuse, with the field at fault and an HTTP status."""

from __future__ import annotations


class ClientError(ValueError):
    """Bad input or a conflicting state; routes answer `{"error", "field"?}` with `status`."""

    status = 400

    def __init__(self, message: str, field: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        if status is not None:
            self.status = status

    def extra(self) -> dict:
        """Return extra fields for the error body."""
        return {}
