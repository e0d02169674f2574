"""Stage 7: title cards over the narration, joined with the clips, loudness-normalised.

The picture is never encoded twice: clips (stage 6) and cards share one H.264 setting, so the
final picture is a stream copy of them in script order. The sound is decoded once into one
lossless track cut to the picture's timeline (measured in the same pass), then normalised and
encoded to AAC once, while the cards render on the other cores; a last pass muxes the two
with chapters, copying both.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from services.atomic import atomic_output, write_text_atomic
from services.captions.subtitles import ffmetadata, format_srt, narration_cues
from services.media.ffmpeg import (
    FFmpegError,
    OutputFormat,
    media_duration,
    probe,
    run_ffmpeg,
)
from services.media.jobs import Job, JobBody, ProgressCallback, run_jobs
from services.media.loudness import LoudnessMeasurement, LoudnessResult, encode_normalised
from services.media.narration_audio import PAD_SECONDS
from services.media.soundtrack import SoundPiece, join_sound
from services.media.title_cards import render_card
from services.run.errors import ToolError
from services.stages.base import Stage, StageContext
from services.stages.final_timeline import (
    Picture,
    Segment,
    load_segments,
    measure_segments,
    place_on_timeline,
)

# The final may differ from the sum of its parts by this much (frame and AAC rounding).
DURATION_TOLERANCE = 1.0


# Rough CPU seconds per second of sound to encode AAC, and per million card pixels: they only
# weigh the parallel jobs against each other in the progress bar (each job's own is measured).
AAC_CPU_PER_SECOND = 0.025
CARD_CPU_PER_MEGAPIXEL = 0.004


class CompilationStage(Stage):
    """Render a card per narration section, join everything, normalise loudness, add chapters."""

    number = 7
    key = "compilation"
    name = "Video Compilation"
    description = "Put narration cards and clips together into the final video with chapters"
    sub_stages = ("sound", "cards", "join", "finish")
    weights = (0.2, 0.6, 0.15, 0.05)
    inputs = ("script", "narration", "clips")
    outputs = ("final",)

    def run(self, ctx: StageContext) -> dict:
        """Write `Output/Final/final.mp4` and `final.srt`."""
        files = ctx.files
        script, segments = load_segments(files)
        fmt = self._format(ctx, segments)
        work = files.work_dir / "compile"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        measure_segments(segments, fmt, work)
        cards = [s for s in segments if not s.is_clip]
        ctx.logger.info(
            "Compiling %d narration cards and %d clips at %dx%d %d fps",
            len(cards),
            len(segments) - len(cards),
            fmt.width,
            fmt.height,
            fmt.fps,
        )
        timeline, total = place_on_timeline(segments)
        sound = work / "sound.flac"
        measured = join_sound(
            [SoundPiece(s.source, s.seconds) for s in segments],
            sound,
            fmt,
            work,
            on_progress=ctx.sub_progress("sound", "joining and measuring the sound"),
            cancel=ctx.cancel_event,
        )
        ctx.logger.info(
            "Measured loudness: %.1f LUFS, true peak %.1f dBTP, range %.1f LU",
            measured.input_i,
            measured.input_tp,
            measured.input_lra,
        )
        ctx.check_cancelled()
        encoded = work / "sound.m4a"
        result = self._render(ctx, cards, fmt, work, (sound, encoded, measured, total))
        ctx.check_cancelled()
        chapters = work / "chapters.txt"
        chapters.write_text(
            ffmetadata(timeline, str(script.get("narrative_theme") or "")), encoding="utf-8"
        )
        with atomic_output(files.final_video) as tmp:
            self._mux(ctx, segments, encoded, chapters, tmp, work, total)
            final_seconds = media_duration(tmp)
            if abs(final_seconds - total) > DURATION_TOLERANCE:
                raise ToolError(
                    f"The compiled video is {final_seconds:.1f} s long but its parts add up "
                    f"to {total:.1f} s.",
                    hint="Rerun stages 6 and 7; a clip or narration file may be damaged.",
                )
        finish = ctx.sub_progress("finish", "writing subtitles")
        cues = narration_cues([e for e in timeline if e.text], pad=PAD_SECONDS)
        write_text_atomic(files.final_srt, format_srt(cues))
        ctx.logger.info(
            "Final video: %.1f s, %d chapters, %d subtitles, loudness %.1f LUFS (%s)",
            final_seconds,
            len(timeline),
            len(cues),
            result.output_i,
            result.normalization,
        )
        finish(1.0)
        shutil.rmtree(work, ignore_errors=True)
        return {
            "final_video": files.relative(files.final_video),
            "final_srt": files.relative(files.final_srt),
            "duration": round(final_seconds, 3),
        }

    def _format(self, ctx: StageContext, segments: list[Segment]) -> OutputFormat:
        """Return the clips' uniform format: from the source video, else from the first clip."""
        if ctx.files.original_video.exists():
            return OutputFormat.for_run(
                probe(ctx.files.original_video), ctx.options.output_settings
            )
        first = next((s.source for s in segments if s.is_clip), None)
        if first is None:
            return OutputFormat()
        return OutputFormat.for_run(probe(first), ctx.options.output_settings)

    def _render(
        self,
        ctx: StageContext,
        cards: list[Segment],
        fmt: OutputFormat,
        work: Path,
        sound: tuple[Path, Path, LoudnessMeasurement, float],
    ) -> LoudnessResult:
        """Encode the normalised sound while rendering every card piece, all in parallel."""
        flac, encoded, measured, total = sound
        outcome: list[LoudnessResult] = []

        def encode_sound(progress: ProgressCallback, abort: threading.Event) -> None:
            outcome.append(
                encode_normalised(
                    flac,
                    encoded,
                    measured,
                    sample_rate=fmt.audio_rate,
                    channels=fmt.audio_channels,
                    audio_bitrate=fmt.audio_bitrate,
                    duration=total,
                    on_progress=progress,
                    cancel=abort,
                )
            )

        megapixels = fmt.width * fmt.height / 1e6
        jobs = [Job("sound", total * AAC_CPU_PER_SECOND, encode_sound)]
        for seg in cards:
            for piece in dict.fromkeys(seg.pictures):  # a repeated piece is rendered once
                jobs.append(
                    Job(
                        piece.path.stem,
                        piece.frames * megapixels * CARD_CPU_PER_MEGAPIXEL,
                        self._card_job(seg, piece, fmt, work),
                    )
                )
        run_jobs(
            jobs,
            workers=ctx.cpu_count,
            report=ctx.sub_progress("cards", "rendering title cards, encoding the sound"),
            cancel=ctx.cancel_event,
        )
        return outcome[0]

    def _card_job(self, seg: Segment, piece: Picture, fmt: OutputFormat, work: Path) -> JobBody:
        """Return the job body that renders one picture piece of a card."""

        def body(progress: ProgressCallback, abort: threading.Event) -> None:
            render_card(
                str(seg.section.get("script_content") or ""),
                seg.label,
                piece.path,
                fmt,
                piece.frames,
                work / "text",
                on_progress=progress,
                cancel=abort,
            )

        return body

    def _mux(
        self,
        ctx: StageContext,
        segments: list[Segment],
        sound: Path,
        chapters: Path,
        out: Path,
        work: Path,
        total: float,
    ) -> None:
        """Write the final: every picture piece in order and the sound, both copied, chapters.

        Each listed piece carries its exact length (`duration`), so a clip whose sound runs a
        few milliseconds past its picture does not push the next piece later.
        """
        listing = work / "pictures.txt"
        lines = ["ffconcat version 1.0"]
        for seg in segments:
            for piece in seg.pictures:
                quoted = str(piece.path.resolve()).replace("'", "'\\''")
                lines += [f"file '{quoted}'", f"duration {piece.seconds:.6f}"]
        listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
        # -xerror: a damaged clip must stop the join, not leave a silently broken final.
        try:
            run_ffmpeg(
                [
                    "-xerror",
                    "-f",
                    "concat",
                    "-safe",
                    "0",
                    "-i",
                    f"file:{listing}",
                    "-i",
                    f"file:{sound}",
                    "-f",
                    "ffmetadata",
                    "-i",
                    f"file:{chapters}",
                    "-map",
                    "0:v:0",
                    "-map",
                    "1:a:0",
                    "-map_metadata",
                    "2",
                    "-map_chapters",
                    "2",
                    "-c",
                    "copy",
                    "-movflags",
                    "+faststart",
                    "-f",
                    "mp4",
                    f"file:{out}",
                ],
                duration=total,
                on_progress=ctx.sub_progress("join", "joining pictures and sound"),
                cancel=ctx.cancel_event,
                what="Joining the segments",
            )
        except FFmpegError as exc:
            raise FFmpegError(
                f"{str(exc).rstrip('.')}.",
                hint="A clip may be damaged: rerun stage 6 (Video Clipping), then 7.",
            ) from exc
