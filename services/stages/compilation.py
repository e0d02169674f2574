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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from services.atomic import atomic_output, write_text_atomic
from services.episodes.files import is_safe_id
from services.ffmpeg_jobs import Job, JobBody, ProgressCallback, run_jobs
from services.loudness import LoudnessMeasurement, LoudnessResult, encode_normalised
from services.media import (
    FFmpegError,
    OutputFormat,
    audio_seconds,
    media_duration,
    probe,
    run_ffmpeg,
    stream_of,
)
from services.narration_audio import PAD_SECONDS
from services.script import NARRATION_TYPES, load_script
from services.soundtrack import SoundPiece, join_sound
from services.stages.base import InputMissingError, InvalidInputError, Stage, ToolError
from services.subtitles import TimelineEntry, ffmetadata, format_srt, narration_cues
from services.title_cards import card_frames, card_pieces, render_card

if TYPE_CHECKING:
    from services.pipeline.context import StageContext

# The final may differ from the sum of its parts by this much (frame and AAC rounding).
DURATION_TOLERANCE = 1.0


# Rough CPU seconds per second of sound to encode AAC, and per million card pixels: they only
# weigh the parallel jobs against each other in the progress bar (each job's own is measured).
AAC_CPU_PER_SECOND = 0.025
CARD_CPU_PER_MEGAPIXEL = 0.004


@dataclass(frozen=True)
class Picture:
    """One file of the final picture and how long it lasts in the join."""

    path: Path
    seconds: float
    frames: int = 0  # a card piece's frame count (0 for a clip)


@dataclass
class Segment:
    """One piece of the final video, in script order."""

    section: dict
    label: str  # what the card shows in its corner
    source: Path  # the narration WAV (stage 5) or the clip (stage 6)
    seconds: float = 0.0  # its exact length on the final timeline (whole frames)
    frames: int = 0  # a card's length in frames
    pictures: list[Picture] = field(default_factory=list)  # what its picture is joined from

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
    """Check a clip is in the uniform format (so it joins without re-encoding); return seconds.

    The length returned is its picture's, which is what the join lays end to end.
    """
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
    return float(video.get("duration") or info.get("format", {}).get("duration") or 0)


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
        script, segments = self._plan(ctx)
        fmt = self._format(ctx, segments)
        work = files.work_dir / "compile"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        self._measure(segments, fmt, work)
        cards = [s for s in segments if not s.is_clip]
        ctx.logger.info(
            "Compiling %d narration cards and %d clips at %dx%d %d fps",
            len(cards),
            len(segments) - len(cards),
            fmt.width,
            fmt.height,
            fmt.fps,
        )
        timeline, total = self._timeline(segments)
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

    def _measure(self, segments: list[Segment], fmt: OutputFormat, work: Path) -> None:
        """Give every segment its exact length; plan each card's picture pieces."""
        gop = fmt.gop_frames
        for index, seg in enumerate(segments):
            if seg.is_clip:
                seg.seconds = _check_clip_format(seg.source, seg.section["clip_id"], fmt)
                seg.pictures = [Picture(seg.source, seg.seconds)]
                continue
            narration = audio_seconds(seg.source)
            if narration <= 0:
                raise InvalidInputError(
                    f"The narration of {seg.section['section_id']} is empty or unreadable.",
                    hint="Rerun stage 5 (Audio Generation).",
                )
            seg.frames = card_frames(narration, fmt.fps)
            seg.seconds = seg.frames / fmt.fps
            stem = f"card-{index:03d}-{seg.section['section_id']}"
            seg.pictures = [
                Picture(work / f"{stem}-{n}f.mp4", n / fmt.fps, n)
                for n in card_pieces(seg.frames, gop)
            ]

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

    def _timeline(self, segments: list[Segment]) -> tuple[list[TimelineEntry], float]:
        """Place each segment on the final timeline; return the entries and the total length."""
        titles = [title for _label, title in _labels([s.section for s in segments])]
        entries, at = [], 0.0
        for seg, title in zip(segments, titles, strict=True):
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
