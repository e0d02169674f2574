"""Turn whatever audio a speech service sends (mp3, wav, ogg...) into the WAV stage 5 expects."""

from __future__ import annotations

from pathlib import Path

import ffmpeg

from services.atomic import partial_path
from services.media.ffmpeg import compile_args, run_ffmpeg
from services.run.errors import ToolError


def save_as_wav(data: bytes, out_path: Path, what: str) -> None:
    """Decode `data` (any format ffmpeg knows) into a 16-bit mono WAV at `out_path`."""
    if not data:
        raise ToolError(f"{what} sent no audio.")
    out_path = Path(out_path)
    raw = partial_path(out_path.with_suffix(".download"))
    raw.write_bytes(data)
    try:
        graph = ffmpeg.output(
            ffmpeg.input(str(raw)), str(out_path), acodec="pcm_s16le", ac=1, f="wav"
        )
        run_ffmpeg(compile_args(graph), what=f"decoding {what}'s audio")
    finally:
        raw.unlink(missing_ok=True)
