"""Creating, listing and deleting episodes (from URLs, uploads and local files)."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
import uuid
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import inspect, select

from models import Episode, PipelineSession, db
from models.session import ACTIVE_STATUSES
from services.atomic import atomic_output, write_json_atomic
from services.episodes.artifacts import artifact_exists
from services.episodes.files import EpisodeFiles
from services.episodes.labels import display_title
from services.episodes.metadata import set_user_title
from services.media.ffmpeg import failure_reason
from services.pipeline.faults import StorageFault, disk_full_message, is_disk_full
from services.run.errors import ClientError
from services.run.options import RunOptions
from services.sources.url_safety import UnsafeURLError, validate_source_url
from services.stages.registry import STAGES

# Extension -> ffmpeg demuxer forced for the decode check (a disguised file fails it).
VIDEO_DEMUXERS = {
    ".mp4": "mov",
    ".m4v": "mov",
    ".mov": "mov",
    ".mkv": "matroska",
    ".webm": "matroska",
    ".avi": "avi",
    ".flv": "flv",
    ".ts": "mpegts",
    ".mpg": "mpeg",
    ".mpeg": "mpeg",
}
# Audio-only sources (podcasts, recordings): stage 1 draws a picture for them.
AUDIO_DEMUXERS = {
    ".mp3": "mp3",
    ".m4a": "mov",
    ".aac": "aac",
    ".wav": "wav",
    ".ogg": "ogg",
    ".oga": "ogg",
    ".opus": "ogg",
    ".flac": "flac",
}
MEDIA_DEMUXERS = {**VIDEO_DEMUXERS, **AUDIO_DEMUXERS}
SUBTITLE_EXTENSIONS = (".vtt", ".srt")
MAX_TITLE_LENGTH = 200


class EpisodeError(ClientError):
    """Bad input for an episode."""


def new_episode_id() -> str:
    """Return a fresh, file-name-safe episode id."""
    return uuid.uuid4().hex[:12]


def clean_title(value: object) -> str:
    """Return a title trimmed; refuse (400, field "title") a non-string, empty, long or control."""
    if not isinstance(value, str):
        raise EpisodeError("title must be a string", field="title")
    title = value.strip()
    if not title:
        raise EpisodeError("title must not be empty", field="title")
    if len(title) > MAX_TITLE_LENGTH:
        raise EpisodeError(f"title is longer than {MAX_TITLE_LENGTH} characters", field="title")
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in title):
        raise EpisodeError("title must not contain control characters", field="title")
    return title


def rename_episode(data_dir: Path, episode: Episode, title: object) -> Episode:
    """Give an episode a new title (validated by `clean_title`); the narration takes it too."""
    episode.title = clean_title(title)
    files = EpisodeFiles.for_episode(data_dir, episode.id)
    if files.root.is_dir():
        set_user_title(files, episode.title)
    db.session.commit()
    return episode


def url_episode(url: str, allow_private: bool, title: str | None = None) -> Episode:
    """Return a URL's episode after its safety check: the stored one, else a new unsaved one.

    A new episode takes `title` (the URL's probed title) when given, else the URL itself.
    """
    shown = clean_title(title) if title is not None else None
    url = (url or "").strip() if isinstance(url, str) else ""
    if not url:
        raise EpisodeError("a video URL is required", field="url")
    try:
        url = validate_source_url(url, allow_private)
    except UnsafeURLError as exc:
        raise EpisodeError(str(exc), field="url") from exc
    existing = db.session.scalars(select(Episode).where(Episode.source == url)).first()
    if existing is not None:
        if shown and existing.title == existing.source:
            existing.title = shown  # still named by its URL: take the probed title
        return existing
    return Episode(id=new_episode_id(), title=shown or url, source=url, source_kind="url")


def is_saved(episode: Episode) -> bool:
    """Tell whether an episode is stored (not one that `url_episode` just made)."""
    return inspect(episode).persistent


def save_new(data_dir: Path, episode: Episode) -> None:
    """Make a new episode's folder and add it to the database session (the caller commits)."""
    EpisodeFiles.for_episode(data_dir, episode.id).ensure_dirs()
    db.session.add(episode)


def discard_new(data_dir: Path, episode_id: str) -> None:
    """Undo the creation of an episode whose run could not start: its row and its folder."""
    db.session.rollback()
    stored = db.session.get(Episode, episode_id)
    if stored is not None:
        db.session.delete(stored)
        db.session.commit()
    shutil.rmtree(EpisodeFiles.for_episode(data_dir, episode_id).root, ignore_errors=True)


def create_from_url(
    data_dir: Path, url: str, allow_private: bool, title: str | None = None
) -> Episode:
    """Return the episode of a URL, creating it (after the URL safety check) when new."""
    episode = url_episode(url, allow_private, title)
    if not is_saved(episode):
        save_new(data_dir, episode)
    db.session.commit()
    return episode


def video_demuxer(extension: str) -> str:
    """Return the demuxer of a video or audio extension we take, or refuse the type with 415."""
    if extension not in MEDIA_DEMUXERS:
        raise EpisodeError(
            f"{extension or 'no extension'} is not a video or audio type we take "
            f"(video: {', '.join(sorted(VIDEO_DEMUXERS))}; "
            f"audio: {', '.join(sorted(AUDIO_DEMUXERS))})",
            field="file",
            status=415,
        )
    return MEDIA_DEMUXERS[extension]


def check_video_file(path: Path, extension: str, shown_name: str = "the file") -> None:
    """Decode-check an uploaded video or audio file with the demuxer its extension implies.

    A video type must hold a picture or sound (stage 1 draws a picture for sound alone); an
    audio type must hold sound.
    """
    demuxer = video_demuxer(extension)
    audio_type = extension in AUDIO_DEMUXERS
    result = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-f",
            demuxer,
            "-show_entries",
            "stream=codec_type",
            "-of",
            "csv=p=0",
            "file:" + str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    kinds = set(result.stdout.split())
    wanted = {"audio"} if audio_type else {"audio", "video"}
    if result.returncode != 0 or not kinds & wanted:
        what = "audio" if audio_type else "video"
        missing = "it has no audio stream" if audio_type else "it has no video or audio stream"
        reason = failure_reason(result.stderr, path, shown_name, missing)
        raise EpisodeError(
            f"the file is not a readable {extension} {what}: {reason}", field="file", status=415
        )


def _save_stream(stream: BinaryIO, final: Path) -> None:
    """Copy an upload stream to `final` atomically."""
    with atomic_output(final) as tmp, open(tmp, "wb") as out:
        shutil.copyfileobj(stream, out, length=1024 * 1024)


def _subtitle_name(filename: str, default_language: str) -> str:
    """Return the stored name of a subtitle file: subtitles.<lang>.<ext>."""
    path = Path(filename.lower())
    extension = path.suffix
    if extension not in SUBTITLE_EXTENSIONS:
        raise EpisodeError("subtitles must be .vtt or .srt", field="subtitles", status=415)
    language = Path(path.stem).suffix.lstrip(".") or default_language
    if not language.replace("-", "").isalnum() or len(language) > 12:
        language = default_language
    return f"subtitles.{language}{extension}"


def create_from_stream(
    data_dir: Path,
    video: BinaryIO,
    filename: str,
    subtitles: list[tuple[BinaryIO, str]],
    default_language: str = "en",
    title: str | None = None,
) -> Episode:
    """Create an episode from an uploaded or local video (and subtitle files)."""
    extension = Path(filename or "").suffix.lower()
    video_demuxer(extension)  # refuse an unknown type before writing anything
    episode = Episode(
        id=new_episode_id(),
        title=title or Path(filename).stem[:200] or "upload",
        source_kind="upload",
        source_name=Path(filename).name[:255] or None,
    )
    files = EpisodeFiles.for_episode(data_dir, episode.id)
    target = files.source_dir / f"video{extension}"
    try:
        files.ensure_dirs()
        _save_stream(video, target)
        check_video_file(target, extension, Path(filename).name)
        # Stage 1 keeps this title: the video is stored under a generated name.
        write_json_atomic(files.metadata, {"title": episode.title})
        for stream, name in subtitles:
            _save_stream(stream, files.source_dir / _subtitle_name(name, default_language))
        episode.source = files.relative(target)
        db.session.add(episode)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        shutil.rmtree(files.root, ignore_errors=True)
        if is_disk_full(exc):
            raise StorageFault(disk_full_message(data_dir)) from exc
        raise
    return episode


def sidecar_subtitles(video: Path) -> list[Path]:
    """Return subtitle files next to a video: same stem, .vtt/.srt, optional .<lang> before it."""
    found = []
    for candidate in sorted(video.parent.glob(f"{video.stem}*")):
        if candidate.suffix.lower() not in SUBTITLE_EXTENSIONS:
            continue
        middle = candidate.name[len(video.stem) : -len(candidate.suffix)]
        if middle == "" or (middle.startswith(".") and middle[1:].replace("-", "").isalnum()):
            found.append(candidate)
    return found


def create_from_local_file(data_dir: Path, path: Path, default_language: str = "en") -> Episode:
    """Create an episode by copying a local video and its sidecar subtitles."""
    path = Path(path)
    if not path.is_file():
        raise EpisodeError(f"no such file: {path}", field="source")
    subtitle_paths = sidecar_subtitles(path)
    handles = [open(p, "rb") for p in subtitle_paths]
    try:
        with open(path, "rb") as video:
            return create_from_stream(
                data_dir,
                video,
                path.name,
                [
                    (h, "subtitles" + p.name[len(path.stem) :])
                    for h, p in zip(handles, subtitle_paths, strict=True)
                ],
                default_language,
                title=path.stem,
            )
    finally:
        for handle in handles:
            handle.close()


def episode_for_run(
    data_dir: Path, youtube_url: str | None, episode_id: str | None, allow_private: bool
) -> Episode:
    """Return the episode a run targets: an existing id, or the (new) episode of a URL."""
    if episode_id:
        episode = db.session.get(Episode, str(episode_id))
        if episode is None:
            raise EpisodeError(f"no episode {episode_id}", field="episode_id", status=404)
        return episode
    if youtube_url:
        return create_from_url(data_dir, youtube_url, allow_private)
    raise EpisodeError("give youtube_url or episode_id", field="youtube_url")


def stage_states(data_dir: Path, episode: Episode) -> dict[str, str]:
    """Return {"1": complete|missing|running|failed, ...} from the files and the sessions."""
    files = EpisodeFiles.for_episode(data_dir, episode.id)
    options = RunOptions(source=episode.source, source_kind=episode.source_kind)
    last = latest_session(episode.id)
    states = {}
    for number, stage in sorted(STAGES.items()):
        run = last.stage_run(number) if last else None
        if run is not None and last.is_active and run.status == "running":
            state = "running"
        elif stage.outputs and all(artifact_exists(k, files, options) for k in stage.outputs):
            state = "complete"
        elif run is not None and run.status == "failed":
            state = "failed"
        else:
            state = "missing"
        states[str(number)] = state
    return states


def latest_session(episode_id: str) -> PipelineSession | None:
    """Return an episode's newest session."""
    return db.session.scalars(
        select(PipelineSession)
        .where(PipelineSession.episode_id == episode_id)
        .order_by(PipelineSession.created_at.desc())
    ).first()


def episode_listing(data_dir: Path, episode: Episode) -> dict:
    """Return an episode as the episodes API lists it."""
    last = latest_session(episode.id)
    same_title = db.session.scalars(select(Episode).where(Episode.title == episode.title)).all()
    return {
        **episode.summary(),
        "display_title": display_title(episode, same_title),
        "stages": stage_states(data_dir, episode),
        "last_session": last.to_status() if last else None,
        "paths": EpisodeFiles.for_episode(data_dir, episode.id).page_paths(),
    }


def delete_episode(data_dir: Path, episode: Episode) -> None:
    """Delete an episode and its folder; refuse while a session runs."""
    active = db.session.scalars(
        select(PipelineSession).where(
            PipelineSession.episode_id == episode.id, PipelineSession.status.in_(ACTIVE_STATUSES)
        )
    ).first()
    if active is not None:
        raise EpisodeError("the episode has a running session: interrupt it first", status=409)
    root = EpisodeFiles.for_episode(data_dir, episode.id).root
    db.session.delete(episode)
    db.session.commit()
    shutil.rmtree(root, ignore_errors=True)
