"""Stage 7: title cards over the narration, joined with the clips, loudness-normalised."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from services.atomic import atomic_output, write_text_atomic
from services.episodes.files import is_safe_id
from services.ffmpeg_jobs import Job, run_jobs
from services.loudness import apply_loudness, measure_loudness
from services.media import (
    FFmpegError,
    OutputFormat,
    media_duration,
    probe,
    run_ffmpeg,
    stream_of,
)
from services.narration_audio import PAD_SECONDS
from services.script import NARRATION_TYPES, load_script
from services.stages.base import InputMissingError, InvalidInputError, Stage, ToolError
from services.subtitles import TimelineEntry, ffmetadata, format_srt, narration_cues
from services.title_cards import card_duration, render_card

if TYPE_CHECKING:
    from services.pipeline.context import StageContext

# The final may differ from the sum of its parts by this much (frame and AAC rounding).
DURATION_TOLERANCE = 1.0


@dataclass
class Segment:
    """One piece of the final video, in script order."""

    section: dict
    label: str  # what the card shows in its corner
    source: Path  # the narration WAV (stage 5) or the clip (stage 6)
    path: Path  # the file joined: the card rendered here, or the clip itself
    source_seconds: float = 0.0  # narration or clip length
    seconds: float = 0.0  # the joined file's length, once it exists

    @property
    def is_clip(self) -> bool:
        """Tell whether this segment is a video clip (else a narration card)."""
        return self.section.get("section_type") == "video_clip"


def _labels(sections: list[dict]) -> list[tuple[str, str]]:
    """Return (card label, chapter title) for each section, numbering clips "k of n"."""
    clips = [s for s in sections if s.get("section_type") == "video_clip"]
    total, seen, result = len(clips), 0, []
    for section in sections:
        kind = section.get("section_type")
        if kind == "video_clip":
            seen += 1
        number = seen + 1 if kind == "pre_clip" else seen
        clip = clips[number - 1] if 0 < number <= total else {}
        clip_title = str(clip.get("title") or f"Clip {number}")
        if kind == "intro":
            result.append(("Intro", "Intro"))
        elif kind == "outro":
            result.append(("Outro", "Outro"))
        elif kind == "pre_clip":
            result.append((f"Clip {number} of {total}", f"Before: {clip_title}"))
        elif kind == "post_clip":
            result.append((f"After clip {number} of {total}", f"After: {clip_title}"))
        else:
            result.append((f"Clip {number} of {total}", clip_title))
    return result


def _check_clip_format(path: Path, clip_id: str, fmt: OutputFormat) -> float:
    """Check a clip is in the uniform format (so it joins without re-encoding); return seconds."""
    try:
        info = probe(path)
    except InvalidInputError as exc:
        raise InvalidInputError(str(exc), hint="Rerun stage 6 (Video Clipping).") from exc
    video, audio = stream_of(info, "video") or {}, stream_of(info, "audio") or {}
    found = (
        video.get("codec_name"),
        video.get("width"),
        video.get("height"),
        video.get("r_frame_rate"),
        audio.get("codec_name"),
        str(audio.get("sample_rate")),
        audio.get("channels"),
    )
    wanted = (
        "h264",
        fmt.width,
        fmt.height,
        f"{fmt.fps}/1",
        "aac",
        str(fmt.audio_rate),
        fmt.audio_channels,
    )
    if found != wanted:
        raise InvalidInputError(
            f"Clip {clip_id} is not in the episode's format ({found[1]}x{found[2]} "
            f"{found[3]} fps, audio {found[4]}; expected {fmt.width}x{fmt.height} {fmt.fps} fps).",
            hint="Rerun stage 6 (Video Clipping).",
        )
    return float(info.get("format", {}).get("duration") or 0)


class CompilationStage(Stage):
    """Render a card per narration section, join everything, normalise loudness, add chapters."""

    number = 7
    key = "compilation"
    name = "Video Compilation"
    description = "Put narration cards and clips together into the final video with chapters"
    sub_stages = ("cards", "join", "loudness", "finish")
    weights = (0.45, 0.1, 0.2, 0.25)
    inputs = ("script", "narration", "clips")
    outputs = ("final",)

    def run(self, ctx: StageContext) -> dict:
        """Write `Output/Final/final.mp4` and `final.srt`."""
        files = ctx.files
        script, segments = self._plan(ctx)
        fmt = self._format(ctx, segments)
        for seg in segments:
            if seg.is_clip:
                seg.source_seconds = _check_clip_format(seg.source, seg.section["clip_id"], fmt)
        work = files.work_dir / "compile"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        cards = [s for s in segments if not s.is_clip]
        ctx.logger.info(
            "Compiling %d narration cards and %d clips at %dx%d %d fps",
            len(cards),
            len(segments) - len(cards),
            fmt.width,
            fmt.height,
            fmt.fps,
        )
        self._render_cards(ctx, cards, fmt, work)
        ctx.check_cancelled()
        timeline, total = self._timeline(segments)
        joined, joined_audio = self._join(ctx, segments, work, total)
        ctx.check_cancelled()
        measured = measure_loudness(
            joined_audio,
            duration=total,
            on_progress=ctx.sub_progress("loudness", "measuring loudness"),
            cancel=ctx.cancel_event,
        )
        ctx.logger.info(
            "Measured loudness: %.1f LUFS, true peak %.1f dBTP, range %.1f LU",
            measured.input_i,
            measured.input_tp,
            measured.input_lra,
        )
        chapters = work / "chapters.txt"
        chapters.write_text(
            ffmetadata(timeline, str(script.get("narrative_theme") or "")), encoding="utf-8"
        )
        expected = sum(s.source_seconds for s in segments)
        finish = ctx.sub_progress("finish", "normalising loudness, adding chapters")
        with atomic_output(files.final_video) as tmp:
            result = apply_loudness(
                joined,
                tmp,
                measured,
                audio_src=joined_audio,
                metadata_file=chapters,
                sample_rate=fmt.audio_rate,
                channels=fmt.audio_channels,
                audio_bitrate=fmt.audio_bitrate,
                duration=total,
                on_progress=lambda f: finish(0.95 * f),
                cancel=ctx.cancel_event,
            )
            final_seconds = media_duration(tmp)
            if abs(final_seconds - expected) > DURATION_TOLERANCE:
                raise ToolError(
                    f"The compiled video is {final_seconds:.1f} s long but its parts add up "
                    f"to {expected:.1f} s.",
                    hint="Rerun stages 6 and 7; a clip or narration file may be damaged.",
                )
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

    def _plan(self, ctx: StageContext) -> tuple[dict, list[Segment]]:
        """Read the script; return it and its segments, naming every missing input file."""
        files = ctx.files
        if not files.script.exists():
            raise InputMissingError("There is no script.", hint="Run stage 4 first.")
        script = load_script(files.script)
        sections = [
            s
            for s in script.get("podcast_sections", [])
            if s.get("section_type") in (*NARRATION_TYPES, "video_clip")
        ]
        if not sections:
            raise InvalidInputError("The script has no sections.", hint="Rerun stage 4.")
        segments: list[Segment] = []
        missing_audio: list[str] = []
        missing_clips: list[str] = []
        for section, (label, _title) in zip(sections, _labels(sections), strict=True):
            if section.get("section_type") == "video_clip":
                name, missing = str(section.get("clip_id")), missing_clips
                path = files.clip(name)
            else:
                name, missing = str(section.get("section_id")), missing_audio
                path = files.section_audio(name)
            if is_safe_id(name) and path.exists():
                segments.append(Segment(section, label, path, path))
            else:
                missing.append(name)
        problems = []
        if missing_audio:
            problems.append(f"no narration for {', '.join(missing_audio)} (run stage 5)")
        if missing_clips:
            problems.append(f"no clip for {', '.join(missing_clips)} (run stage 6)")
        if problems:
            raise InputMissingError("Cannot compile: " + "; ".join(problems) + ".")
        return script, segments

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

    def _render_cards(
        self, ctx: StageContext, cards: list[Segment], fmt: OutputFormat, work: Path
    ) -> None:
        """Render every narration card in parallel, each as long as its narration."""
        for index, seg in enumerate(cards):
            seconds = media_duration(seg.source)
            if seconds <= 0:
                raise InvalidInputError(
                    f"The narration of {seg.section['section_id']} is empty or unreadable.",
                    hint="Rerun stage 5 (Audio Generation).",
                )
            seg.source_seconds = seconds
            seg.path = work / f"card-{index:03d}-{seg.section['section_id']}.mp4"

        def job(seg: Segment) -> Job:
            duration = card_duration(seg.source_seconds, fmt.fps)

            def body(progress, abort) -> None:
                render_card(
                    str(seg.section.get("script_content") or ""),
                    seg.label,
                    seg.source,
                    seg.path,
                    fmt,
                    duration,
                    work / "text",
                    on_progress=progress,
                    cancel=abort,
                )

            return Job(key=seg.section["section_id"], weight=duration, body=body)

        run_jobs(
            [job(s) for s in cards],
            workers=ctx.cpu_count,
            report=ctx.sub_progress("cards", "rendering title cards"),
            cancel=ctx.cancel_event,
        )

    def _timeline(self, segments: list[Segment]) -> tuple[list[TimelineEntry], float]:
        """Measure each segment file and place it on the final timeline."""
        titles = [title for _label, title in _labels([s.section for s in segments])]
        entries, at = [], 0.0
        for seg, title in zip(segments, titles, strict=True):
            seg.seconds = media_duration(seg.path)
            text = "" if seg.is_clip else str(seg.section.get("script_content") or "")
            entries.append(
                TimelineEntry(
                    str(seg.section.get("section_id")),
                    str(seg.section.get("section_type")),
                    title,
                    at,
                    at + seg.seconds,
                    text,
                )
            )
            at += seg.seconds
        return entries, at

    def _join(
        self, ctx: StageContext, segments: list[Segment], work: Path, total: float
    ) -> tuple[Path, Path]:
        """Join the segments in order with the concat demuxer; return (video, audio) files.

        The video is stream-copied. The audio is decoded once to lossless FLAC, resampled to
        the concat timestamps: copying AAC across joins keeps each segment's encoder priming
        and padding, which adds ~25 ms of drift per join (0.24 s over 8 segments measured).
        The final pass encodes it to AAC, once.
        """
        listing = work / "segments.txt"
        lines = ["ffconcat version 1.0"]
        for seg in segments:
            quoted = str(seg.path.resolve()).replace("'", "'\\''")
            lines.append(f"file '{quoted}'")
        listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
        video, audio = work / "joined.mp4", work / "joined.flac"
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
                    "-map",
                    "0:v:0",
                    "-c:v",
                    "copy",
                    "-an",
                    f"file:{video}",
                    "-map",
                    "0:a:0",
                    "-af",
                    "aresample=async=1:min_hard_comp=0.01:first_pts=0",
                    "-c:a",
                    "flac",
                    "-vn",
                    f"file:{audio}",
                ],
                duration=total,
                on_progress=ctx.sub_progress("join", "joining the segments"),
                cancel=ctx.cancel_event,
                what="Joining the segments",
            )
        except FFmpegError as exc:
            raise FFmpegError(
                f"{str(exc).rstrip('.')}.",
                hint="A clip may be damaged: rerun stage 6 (Video Clipping), then 7.",
            ) from exc
        return video, audio
