"""Errors every floor may raise: refused requests (ClientError) and failed stages (StageError)."""

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


class StageError(Exception):
    """A stage failed for a reason the user can act on; the message says what and how."""

    error_type = "stage_error"
    recoverable = True

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.hint = hint
        super().__init__(f"{message} {hint}".strip() if hint else message)


class InputMissingError(StageError):
    """A file the stage needs is not there."""

    error_type = "input_missing"


class InvalidInputError(StageError):
    """The input exists but cannot be used (bad URL, unreadable media, no speech...)."""

    error_type = "invalid_input"


class ToolError(StageError):
    """An external tool (ffmpeg, yt-dlp, espeak-ng) failed; the message carries its last words."""

    error_type = "tool_failed"


class EngineUnavailableError(StageError):
    """The chosen engine cannot run here (package, model or key missing)."""

    error_type = "engine_unavailable"


class StageInterrupted(Exception):
    """The run was interrupted by the user; not an error of the stage."""
