"""The final's timeline for video editors: OpenTimelineIO, and the formats its adapters write.

One video track and one audio track, in script order. A clip section is its stage 6 file
(`Output/Video/<clip_id>.mp4`) on both tracks, with the cut's in and out points in the
source kept in its metadata; a narration section is its `Output/Audio/<section_id>.wav` on
the audio track, with a gap of the same length on the video track where the final shows the
section's title card. Lengths are the files' own (ffprobe), so the timeline matches what
stage 7 joins. Media references are absolute file URLs, for an editor on this machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import opentimelineio as otio

from services.episodes.files import EpisodeFiles
from services.episodes.script import load_script
from services.media.ffmpeg import media_duration
from services.run.errors import ClientError

# format name in the URL -> (OTIO adapter, file suffix, media type)
FORMATS: dict[str, tuple[str, str, str]] = {
    "otio": ("otio_json", "otio", "application/json"),
    "xml": ("fcp_xml", "xml", "application/xml"),
    "edl": ("cmx_3600", "edl", "text/plain"),
}
RATE = 30.0


@dataclass(frozen=True)
class ExportedTimeline:
    """A timeline written in one format: its text, file name and media type."""

    text: str
    filename: str
    mimetype: str


def _seconds(value: float) -> otio.opentime.RationalTime:
    """Return a time in frames at the timeline's rate."""
    return otio.opentime.RationalTime(round(value * RATE), RATE)


def _range(duration: float) -> otio.opentime.TimeRange:
    """Return the range 0..duration."""
    return otio.opentime.TimeRange(_seconds(0.0), _seconds(duration))


def _reference(path, duration: float) -> otio.schema.ExternalReference:  # noqa: ANN001
    """Return a media reference to a file of the episode."""
    return otio.schema.ExternalReference(
        target_url=path.resolve().as_uri(), available_range=_range(duration)
    )


def build_timeline(files: EpisodeFiles, title: str = "") -> otio.schema.Timeline:
    """Return the OTIO timeline of an episode's rendered sections, in script order."""
    if not files.script.exists():
        raise ClientError("This episode has no script yet: run stage 4 first.", status=409)
    script = load_script(files.script)
    timeline = otio.schema.Timeline(name=title or files.root.name)
    video = otio.schema.Track(name="Picture", kind=otio.schema.TrackKind.Video)
    audio = otio.schema.Track(name="Sound", kind=otio.schema.TrackKind.Audio)
    missing = []
    for section in script.get("podcast_sections", []):
        section_id = str(section.get("section_id"))
        is_clip = section.get("section_type") == "video_clip"
        path = files.clip(section_id) if is_clip else files.section_audio(section_id)
        if not path.exists():
            missing.append(section_id)
            continue
        duration = media_duration(path)
        metadata = {"clipcast": {"section_id": section_id, "type": section["section_type"]}}
        if is_clip:
            metadata["clipcast"]["source_in"] = float(section["start_time"])
            metadata["clipcast"]["source_out"] = float(section["end_time"])
            for track in (video, audio):
                track.append(
                    otio.schema.Clip(
                        name=str(section.get("title") or section_id),
                        media_reference=_reference(path, duration),
                        source_range=_range(duration),
                        metadata=metadata,
                    )
                )
        else:
            metadata["clipcast"]["text"] = str(section.get("script_content") or "")
            video.append(otio.schema.Gap(source_range=_range(duration), name=section_id))
            audio.append(
                otio.schema.Clip(
                    name=section_id,
                    media_reference=_reference(path, duration),
                    source_range=_range(duration),
                    metadata=metadata,
                )
            )
    if missing:
        raise ClientError(
            f"Sections not rendered yet: {', '.join(missing[:5])}. Run stages 5 and 6 first.",
            status=409,
        )
    timeline.tracks.extend([video, audio])
    return timeline


def export_timeline(files: EpisodeFiles, fmt: str, title: str = "") -> ExportedTimeline:
    """Return the episode's timeline written in `fmt` (otio, xml for FCP, edl)."""
    if fmt not in FORMATS:
        raise ClientError(f"format must be one of: {', '.join(FORMATS)}", "format", status=404)
    adapter, suffix, mimetype = FORMATS[fmt]
    timeline = build_timeline(files, title)
    if fmt == "edl":
        # An EDL has one track of events: the picture (narration as black), with its sound.
        timeline = otio.schema.Timeline(
            name=timeline.name, tracks=[timeline.video_tracks()[0].deepcopy()]
        )
    text = otio.adapters.write_to_string(timeline, adapter_name=adapter)
    return ExportedTimeline(text, f"{files.root.name}.{suffix}", mimetype)
