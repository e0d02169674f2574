"""Stage 7: title cards over the narration, joined with the clips, loudness-normalised.

The picture is never encoded twice: clips (stage 6) and cards share one H.264 setting, so the
final picture is a stream copy of them in script order. Every piece of sound (narration and
clip) is metered and given the gain that brings it to -16 LUFS; the sound is then decoded once
into one lossless track cut to the picture's timeline (measured in the same pass), normalised
and encoded to AAC once, while the cards render on the other cores; a last pass muxes the two
with chapters, copying both. The subtitles carry the narration and the clips' speech; only
when `output_settings.burn_subtitles` asks for them in the picture is it encoded once more.
Each section's loudness in the final is metered and logged.
"""

from __future__ import annotations

import threading
from pathlib import Path

from services.atomic import atomic_output, scratch_folder, write_text_atomic
from services.captions.subtitles import TimelineEntry, ffmetadata, filter_path, format_srt
from services.media.ffmpeg import (
    FFmpegError,
    OutputFormat,
    media_duration,
    probe,
    run_ffmpeg,
)
from services.media.jobs import Job, JobBody, ProgressCallback, run_jobs
from services.media.loudness import (
    SILENCE_LUFS,
    TARGET_I,
    LoudnessMeasurement,
    LoudnessResult,
    encode_normalised,
    span_loudness,
)
from services.media.soundtrack import SoundPiece, join_sound, level_pieces
from services.media.title_cards import render_card
from services.run.errors import ToolError
from services.run.words import plural
from services.stages.base import Stage, StageContext
from services.stages.final_timeline import (
    Picture,
    Segment,
    final_cues,
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
    sub_stages = ("level", "sound", "cards", "join", "burn", "finish")
    weights = (0.1, 0.2, 0.45, 0.15, 0.05, 0.05)
    inputs = ("script", "narration", "clips")
    outputs = ("final",)

    def run(self, ctx: StageContext) -> dict:
        """Write `Output/Final/final.mp4` and `final.srt`."""
        files = ctx.files
        script, segments = load_segments(files)
        fmt = self._format(ctx, segments)
        # Sound tracks, card pieces and the joined picture never outlive the stage.
        with scratch_folder(files.work_dir / "compile") as work:
            return self._compile(ctx, script, segments, fmt, work)

    def _compile(
        self, ctx: StageContext, script: dict, segments: list, fmt: OutputFormat, work: Path
    ) -> dict:
        """Render the final video and subtitles from `segments`, using `work` for scratch."""
        files = ctx.files
        measure_segments(segments, fmt, work)
        cards = [s for s in segments if not s.is_clip]
        ctx.logger.info(
            "Compiling %s and %s at %dx%d %s fps",
            plural(len(cards), "narration card"),
            plural(len(segments) - len(cards), "clip"),
            fmt.width,
            fmt.height,
            fmt.rate_label,
        )
        timeline, total = place_on_timeline(segments)
        sound = work / "sound.flac"
        measured = join_sound(
            self._leveled(ctx, segments, fmt),
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
        cues = final_cues(files, segments, timeline)
        write_text_atomic(files.final_srt, format_srt(cues))
        burn = bool(ctx.options.output_settings.get("burn_subtitles")) and bool(cues)
        with atomic_output(files.final_video) as tmp:
            joined = work / "joined.mp4" if burn else tmp
            self._mux(ctx, segments, encoded, chapters, joined, work, total)
            if burn:
                self._burn(ctx, joined, files.final_srt, tmp, fmt, total)
            final_seconds = media_duration(tmp)
            if abs(final_seconds - total) > DURATION_TOLERANCE:
                raise ToolError(
                    f"The compiled video is {final_seconds:.1f} s long but its parts add up "
                    f"to {total:.1f} s.",
                    hint="Rerun stages 6 and 7; a clip or narration file may be damaged.",
                )
        finish = ctx.sub_progress("finish", "metering each section")
        self._log_section_loudness(ctx, timeline)
        ctx.logger.info(
            "Final video: %.1f s, %d chapters, %d subtitles, loudness %.1f LUFS (%s)",
            final_seconds,
            len(timeline),
            len(cues),
            result.output_i,
            result.normalization,
        )
        finish(1.0)
        return {
            "final_video": files.relative(files.final_video),
            "final_srt": files.relative(files.final_srt),
            "duration": round(final_seconds, 3),
        }

    def _leveled(
        self, ctx: StageContext, segments: list[Segment], fmt: OutputFormat
    ) -> list[SoundPiece]:
        """Return the sound pieces, each with the gain that brings it to -16 LUFS."""
        pieces = level_pieces(
            [SoundPiece(s.source, s.seconds) for s in segments],
            fmt,
            on_progress=ctx.sub_progress("level", "metering each narration and clip"),
            cancel=ctx.cancel_event,
        )
        ctx.logger.info(
            "Gains to bring each piece to -16 LUFS: %s",
            ", ".join(
                f"{s.section['section_id']} {p.gain_db:+.1f} dB"
                for s, p in zip(segments, pieces, strict=True)
            ),
        )
        return pieces

    def _log_section_loudness(self, ctx: StageContext, timeline: list[TimelineEntry]) -> None:
        """Meter each section of the final on its own (ebur128) and log the levels."""
        levels = span_loudness(
            ctx.files.final_video, [(e.start, e.end) for e in timeline], ctx.cancel_event
        )
        audible = [lufs for lufs in levels if lufs > SILENCE_LUFS]
        ctx.logger.info(
            "Loudness per section (LUFS): %s; furthest from -16: %.1f LU",
            ", ".join(
                f"{e.section_id} {lufs:.1f}" for e, lufs in zip(timeline, levels, strict=True)
            ),
            max((abs(lufs - TARGET_I) for lufs in audible), default=0.0),
        )

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

    def _burn(
        self, ctx: StageContext, src: Path, srt: Path, out: Path, fmt: OutputFormat, total: float
    ) -> None:
        """Write `src` with its subtitles drawn into the picture (re-encoded; sound copied)."""
        style = "FontName=DejaVu Sans,FontSize=16,Outline=1,Shadow=0,MarginV=18"
        run_ffmpeg(
            ["-i", f"file:{src}", "-map", "0:v:0", "-map", "0:a:0"]
            + ["-vf", f"subtitles=filename={filter_path(srt)}:force_style='{style}'"]
            + ["-c:v", "libx264", "-preset", fmt.preset, "-crf", str(fmt.crf)]
            + ["-pix_fmt", "yuv420p", "-r", fmt.rate, "-g", str(fmt.gop_frames)]
            + ["-c:a", "copy", "-movflags", "+faststart", "-f", "mp4", f"file:{out}"],
            duration=total,
            on_progress=ctx.sub_progress("burn", "drawing the subtitles into the picture"),
            cancel=ctx.cancel_event,
            what="Drawing the subtitles",
        )

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
