"""Application settings read from the environment (and a `.env` file when present)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent
BUILTIN_PROMPTS_DIR = CONFIG_DIR / "prompts"
BUILTIN_PRESETS_DIR = CONFIG_DIR / "presets"


def env_text(name: str, default: str = "") -> str:
    """Return an environment variable stripped of blanks, or `default`."""
    return (os.environ.get(name) or "").strip() or default


def env_number(name: str, default: float, low: float = 0.0, high: float = 1e9) -> float:
    """Return a numeric environment variable clamped to [low, high], or `default`."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return min(high, max(low, value))


def env_flag(name: str, default: bool = False) -> bool:
    """Return a boolean environment variable (1/true/yes/on)."""
    raw = (os.environ.get(name) or "").strip().lower()
    return raw in {"1", "true", "yes", "on"} if raw else default


@dataclass(frozen=True)
class ServeSettings:
    """How `python app.py` serves: read before anything else is imported (eventlet patching)."""

    host: str
    port: int
    async_mode: str
    has_token_and_key: bool  # API_TOKEN and SECRET_KEY are both set (a public bind needs them)

    @classmethod
    def from_env(cls) -> ServeSettings:
        """Read HOST, PORT, SOCKETIO_ASYNC_MODE, API_TOKEN and SECRET_KEY."""
        return cls(
            host=env_text("HOST", "127.0.0.1"),
            port=int(env_number("PORT", 5000, 0, 65535)),
            async_mode=env_text("SOCKETIO_ASYNC_MODE", "threading"),
            has_token_and_key=bool(env_text("API_TOKEN") and env_text("SECRET_KEY")),
        )


def _load_secret_key(data_dir: Path) -> str:
    """Return SECRET_KEY from the environment, else a random key stored once in DATA_DIR."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    tmp = key_file.with_suffix(".partial")
    tmp.write_text(key)
    os.chmod(tmp, 0o600)
    os.replace(tmp, key_file)
    return key


def parallel_jobs() -> int:
    """Return PARALLEL_JOBS, the most cores a stage's parallel work uses (unset or 0: all)."""
    jobs = int(os.environ.get("PARALLEL_JOBS") or 0)
    return jobs if jobs > 0 else max(1, os.cpu_count() or 1)


def max_concurrent_runs() -> int:
    """Return MAX_CONCURRENT_RUNS, the sessions run at once (default: cores // 2, in 2..8)."""
    default = min(8, max(2, (os.cpu_count() or 1) // 2))
    return int(env_number("MAX_CONCURRENT_RUNS", default, 1, 1000))


class Config:
    """Settings for a normal run; every value can be overridden by the environment."""

    TESTING = False

    def __init__(self) -> None:
        self.DATA_DIR = Path(os.environ.get("DATA_DIR", "./data")).resolve()
        self.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "DATABASE_URL", f"sqlite:///{self.DATA_DIR / 'clipcast.db'}"
        )
        self.SECRET_KEY = _load_secret_key(self.DATA_DIR)
        self.SECRET_KEY_FROM_ENV = bool(os.environ.get("SECRET_KEY"))
        self.API_TOKEN = os.environ.get("API_TOKEN") or None
        self.ALLOWED_HOSTS = [
            h.strip()
            for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
            if h.strip()
        ]
        self.ALLOW_PRIVATE_URLS = env_flag("ALLOW_PRIVATE_URLS")
        self.SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "threading")
        self.PIPELINE_EXECUTOR = os.environ.get("PIPELINE_EXECUTOR", "local")
        self.CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or None
        # Workers' events reach browsers through this queue; in celery mode the broker by default.
        self.SOCKETIO_MESSAGE_QUEUE = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or (
            self.CELERY_BROKER_URL if self.PIPELINE_EXECUTOR == "celery" else None
        )
        self.CELERY_QUEUE = os.environ.get("CELERY_QUEUE", "clipcast")
        self.CELERY_STAGE_QUEUES = os.environ.get("CELERY_STAGE_QUEUES", "")  # e.g. 2=asr,6=ffmpeg
        self.CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "43200"))
        self.CELERY_MAX_DELIVERIES = int(os.environ.get("CELERY_MAX_DELIVERIES", "3"))
        self.WORKER_HEARTBEAT_TIMEOUT = float(os.environ.get("WORKER_HEARTBEAT_TIMEOUT", "30"))
        # Engines. The engines read these when they run (in the worker), so they are listed
        # here for reference and shown by the app; see services/engines/llm/settings.py.
        #   LLM_BASE_URL, LLM_API_KEY, LLM_MODEL  any OpenAI-compatible chat endpoint (`llm`
        #       analysis and narrative engines); a key alone means api.openai.com. Without
        #       LLM_MODEL the server's first listed model is used.
        #   LLM_TIMEOUT (120 s), LLM_MAX_TRIES (3), LLM_BACKOFF (1 s, doubling),
        #   LLM_MAX_RETRY_AFTER (60 s), LLM_JSON_MODE (auto|off), LLM_TEMPERATURE (0.2),
        #   LLM_CHUNK_CHARS (24000: transcript characters per request)
        #   ASR_BASE_URL, ASR_API_KEY, ASR_MODEL (whisper-1), ASR_CHUNK_SECONDS (600): the
        #       `openai` transcript engine; base URL and key fall back to LLM_*
        #   WHISPER_MODEL (small, or a model folder), WHISPER_DEVICE (auto),
        #   WHISPER_COMPUTE_TYPE (default), WHISPER_ALLOW_DOWNLOAD (0): `faster-whisper`
        #   ALIGN_MAX_SECONDS (120): wall-time budget of caption word alignment in stage 2
        #   TTS_BASE_URL, TTS_API_KEY, TTS_MODEL (tts-1): the `openai` TTS engine (LLM_*)
        #   ELEVENLABS_API_KEY, ELEVENLABS_MODEL, ELEVENLABS_BASE_URL: `elevenlabs` TTS
        #   HF_TOKEN, PYANNOTE_MODEL: the `pyannote` diarizer (optional extra)
        #   Defaults of the run options: TRANSCRIPT_ENGINE (auto), ANALYSIS_ENGINE
        #   (heuristic), NARRATIVE_ENGINE (template), TTS_ENGINE (piper), TTS_VOICE,
        #   DIARIZATION (auto|off|embedded|pyannote), WORD_ALIGNMENT (auto|off)
        self.LLM_BASE_URL = os.environ.get("LLM_BASE_URL") or None
        self.LLM_API_KEY = os.environ.get("LLM_API_KEY") or None
        self.LLM_MODEL = os.environ.get("LLM_MODEL") or None
        self.MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "4096")) * 1024 * 1024
        self.CAPTION_LANGUAGE = os.environ.get("CAPTION_LANGUAGE", "en")
        # Read again by each pipeline worker from its own environment (see worker.py).
        self.PARALLEL_JOBS = parallel_jobs()
        # Local sessions beyond this wait `queued`, in order of creation (Celery: its workers).
        self.MAX_CONCURRENT_RUNS = max_concurrent_runs()
        # How long a write waits for a locked SQLite database before it fails, in seconds.
        self.DB_BUSY_TIMEOUT = float(os.environ.get("DB_BUSY_TIMEOUT", "30"))
        self.SQLALCHEMY_ENGINE_OPTIONS = _engine_options(
            self.SQLALCHEMY_DATABASE_URI, self.DB_BUSY_TIMEOUT
        )

    def as_dict(self) -> dict:
        """Return the upper-case settings as a mapping for `app.config.from_mapping`."""
        return {k: v for k, v in vars(self).items() if k.isupper()}


class TestConfig(Config):
    __test__ = False  # not a pytest test class

    """Settings for the test suite: a temporary DATA_DIR, loopback sources allowed."""

    TESTING = True

    def __init__(self, data_dir: Path) -> None:
        os.environ.setdefault("SECRET_KEY", "test-secret-key")
        previous = os.environ.get("DATA_DIR")
        os.environ["DATA_DIR"] = str(data_dir)
        try:
            super().__init__()
        finally:
            if previous is None:
                os.environ.pop("DATA_DIR", None)
            else:
                os.environ["DATA_DIR"] = previous
        self.TESTING = True
        self.ALLOW_PRIVATE_URLS = True


def _engine_options(url: str, busy_timeout: float = 30.0) -> dict:
    """Return SQLAlchemy engine options: a busy timeout for SQLite, pre-ping elsewhere."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": busy_timeout, "check_same_thread": False}}
    return {"pool_pre_ping": True}
