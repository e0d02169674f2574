"""The final video's timeline: its segments in script order, their files and exact lengths.

A segment is a narration card or a clip. Each gets a label (what its card shows), a chapter
title, its exact length in whole frames, and the picture files the join lays end to end: the
clip itself, or a card's GOP pieces (services/title_cards.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from services.atomic import read_json
from services.captions.subtitles import (
    Cue,
    TimelineEntry,
    narration_cues,
    speech_cues,
    transcript_words,
)
from services.episodes.files import EpisodeFiles, is_safe_id
from services.episodes.script import NARRATION_TYPES, load_script
from services.media.ffmpeg import OutputFormat, audio_seconds, probe, stream_of
from services.media.narration_audio import PAD_SECONDS
from services.media.title_cards import card_frames, card_pieces
from services.run.errors import InputMissingError, InvalidInputError


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
    pictures: list[Picture] = field(default_factory=list)  # what its picture is joined from

    @property
    def is_clip(self) -> bool:
        """Tell whether this segment is a video clip (else a narration card)."""
        return self.section.get("section_type") == "video_clip"


def section_labels(sections: list[dict]) -> list[tuple[str, str]]:
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
            speaker = section.get("speaker")
            named = f"{clip_title} ({speaker})" if isinstance(speaker, str) and speaker else None
            result.append((f"Clip {number} of {total}", named or clip_title))
    return result


def check_clip_format(path: Path, clip_id: str, fmt: OutputFormat) -> float:
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
        fmt.rate_ratio,
        "aac",
        str(fmt.audio_rate),
        fmt.audio_channels,
    )
    if found != wanted:
        raise InvalidInputError(
            f"Clip {clip_id} is not in the episode's format ({found[1]}x{found[2]} "
            f"{found[3]} fps, audio {found[4]}; expected {fmt.width}x{fmt.height} "
            f"{fmt.rate_label} fps).",
            hint="Rerun stage 6 (Video Clipping).",
        )
    return float(video.get("duration") or info.get("format", {}).get("duration") or 0)


def load_segments(files: EpisodeFiles) -> tuple[dict, list[Segment]]:
    """Read the script; return it and its segments, naming every missing input file."""
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
    for section, (label, _title) in zip(sections, section_labels(sections), strict=True):
        if section.get("section_type") == "video_clip":
            name, missing = str(section.get("clip_id")), missing_clips
            path = files.clip(name)
        else:
            name, missing = str(section.get("section_id")), missing_audio
            path = files.section_audio(name)
        if is_safe_id(name) and path.exists():
            segments.append(Segment(section, label, path))
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


def measure_segments(segments: list[Segment], fmt: OutputFormat, work: Path) -> None:
    """Give every segment its exact length; plan each card's picture pieces."""
    gop = fmt.gop_frames
    for index, seg in enumerate(segments):
        if seg.is_clip:
            seg.seconds = check_clip_format(seg.source, seg.section["clip_id"], fmt)
            seg.pictures = [Picture(seg.source, seg.seconds)]
            continue
        narration = audio_seconds(seg.source)
        if narration <= 0:
            raise InvalidInputError(
                f"The narration of {seg.section['section_id']} is empty or unreadable.",
                hint="Rerun stage 5 (Audio Generation).",
            )
        frames = card_frames(narration, fmt.fps)
        seg.seconds = fmt.seconds_of(frames)
        stem = f"card-{index:03d}-{seg.section['section_id']}"
        seg.pictures = [
            Picture(work / f"{stem}-{n}f.mp4", fmt.seconds_of(n), n)
            for n in card_pieces(frames, gop)
        ]


def place_on_timeline(segments: list[Segment]) -> tuple[list[TimelineEntry], float]:
    """Place each segment on the final timeline; return the entries and the total length."""
    titles = [title for _label, title in section_labels([s.section for s in segments])]
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


def _read_optional(path: Path) -> dict:
    """Return a JSON object file's content, or {} when it is missing or unreadable."""
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def clip_source_starts(files: EpisodeFiles, segments: list[Segment]) -> dict[str, float]:
    """Return where each clip starts in the source: as cut (stage 6's manifest), else scripted."""
    cut = _read_optional(files.video_dir / "clips.json").get("clips") or {}
    starts = {}
    for seg in segments:
        if seg.is_clip:
            clip_id = str(seg.section.get("clip_id"))
            recorded = cut.get(clip_id) if isinstance(cut, dict) else None
            start = recorded.get("start") if isinstance(recorded, dict) else None
            if not isinstance(start, int | float):
                start = seg.section.get("start_time") or 0.0
            starts[str(seg.section.get("section_id"))] = float(start)
    return starts


def final_cues(
    files: EpisodeFiles, segments: list[Segment], timeline: list[TimelineEntry]
) -> list[Cue]:
    """Return the final's subtitles: the narration, and each clip's speech from the transcript."""
    cues = narration_cues([e for e in timeline if e.text], pad=PAD_SECONDS)
    transcript = _read_optional(files.transcript).get("segments") or []
    starts = clip_source_starts(files, segments)
    for entry in timeline:
        if entry.section_id in starts and transcript:
            start = starts[entry.section_id]
            words = transcript_words(transcript, start, start + entry.end - entry.start)
            cues += speech_cues(words, start, entry.start, entry.end)
    return sorted(cues, key=lambda c: (c.start, c.end))
