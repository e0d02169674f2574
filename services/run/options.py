"""RunOptions: the choices of one run (stages, segment mode, prompts, engines, audio method)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields

from config.settings import env_text
from services.run.errors import ClientError

SEGMENT_MODES = ("auto", "manual")
ENGINE_FIELDS = {
    "transcript_engine": "transcript",
    "analysis_engine": "analysis",
    "narrative_engine": "narrative",
    "tts_engine": "tts",
}
PROMPT_FIELDS = {"analysis_prompt": "analysis", "narrative_prompt": "narrative"}
OUTPUT_SETTING_LIMITS = {"max_height": (144, 2160), "crf": (0, 51)}
OUTPUT_SETTING_FLAGS = ("burn_subtitles", "smart_cut")  # true/false output settings
AUDIO_METHODS = ("tts", "manual")
TTS_RATE_LIMITS = (0.5, 2.0)
DIARIZATION_CHOICES = ("auto", "off", "embedded", "pyannote")
WORD_ALIGNMENT_CHOICES = ("auto", "off")
ALL_STAGES = (1, 2, 3, 4, 5, 6, 7)
# Set from the episode by the server, never by a request.
SERVER_FIELDS = ("source", "source_kind")
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}")
TARGET_LIMITS = (10, 14400)  # target_seconds: from 10 s to 4 hours


class OptionsError(ClientError):
    """An option has an invalid value."""


def setting(name: str, default: str) -> str:
    """Return the server's default for an option (an environment setting), else `default`."""
    return env_text(name, default)


def _default(name: str, default: str):  # noqa: ANN202 - a dataclass default factory
    """Return a default factory reading the setting `name` when options are made."""
    return field(default_factory=lambda: setting(name, default))


@dataclass
class RunOptions:
    """Everything a stage may need to know about the run besides the episode files."""

    selected_stages: list[int] = field(default_factory=lambda: list(ALL_STAGES))
    segment_mode: str = "auto"
    analysis_prompt: str = "highlights"  # "default" is the harm review guideline
    narrative_prompt: str = "default"
    audio_method: str = "tts"
    # Engine defaults come from settings (TRANSCRIPT_ENGINE, ...); a preset or request overrides.
    transcript_engine: str = _default("TRANSCRIPT_ENGINE", "auto")
    analysis_engine: str = _default("ANALYSIS_ENGINE", "heuristic")
    narrative_engine: str = _default("NARRATIVE_ENGINE", "template")
    tts_engine: str = _default("TTS_ENGINE", "piper")
    caption_language: str = "en"
    max_segments: int = 20
    # The final's length in seconds; None: at most a third of the source and 10 minutes.
    target_seconds: float | None = None
    tts_voice: str | None = field(default_factory=lambda: setting("TTS_VOICE", "") or None)
    tts_rate: float = 1.0  # speaking rate, TTS_RATE_LIMITS; engines without one ignore it
    # Speaker labels in stage 2: auto labels a one-speaker transcript when there is speech
    # enough (pyannote when installed with HF_TOKEN, else the embedded clustering).
    diarization: str = _default("DIARIZATION", "auto")
    # Word timings for captions that have none, by forced alignment (stage 2).
    word_alignment: str = _default("WORD_ALIGNMENT", "auto")
    source: str | None = None  # the URL, or the episode-relative path of an uploaded file
    source_kind: str | None = None  # url | upload
    output_settings: dict = field(default_factory=dict)

    @classmethod
    def field_names(cls) -> set[str]:
        """Return the names of every option."""
        return {f.name for f in fields(cls)}

    @classmethod
    def from_dict(cls, data: dict) -> RunOptions:
        """Build options from a mapping, ignoring None values; raise OptionsError when invalid."""
        known = cls.field_names()
        values = {k: v for k, v in data.items() if k in known and v is not None}
        options = cls(**values)
        options.validate()
        return options

    @classmethod
    def check_request_keys(cls, data: dict, extra: set[str]) -> None:
        """Refuse a request key that is neither an option nor one of `extra`, naming it."""
        allowed = (cls.field_names() - set(SERVER_FIELDS)) | extra
        unknown = sorted(str(key) for key in data if key not in allowed)
        if unknown:
            raise OptionsError(f"unknown option {unknown[0]!r}", unknown[0])

    def validate(self) -> None:
        """Check every value's type and range."""
        for name in (*ENGINE_FIELDS, *PROMPT_FIELDS):
            value = getattr(self, name)
            if not isinstance(value, str) or not 0 < len(value) <= 100:
                raise OptionsError(f"{name} must be a name (a string)", name)
        language = self.caption_language
        if not isinstance(language, str) or not LANGUAGE_TAG.fullmatch(language):
            raise OptionsError(
                "caption_language must be a language code such as en or pt-BR", "caption_language"
            )
        stages = self.selected_stages
        if not isinstance(stages, list) or not stages:
            raise OptionsError("select at least one stage (1-7)", "selected_stages")
        if any(
            not isinstance(s, int) or isinstance(s, bool) or s not in ALL_STAGES for s in stages
        ):
            raise OptionsError("stages must be numbers from 1 to 7", "selected_stages")
        self.selected_stages = sorted(set(stages))
        if self.segment_mode not in SEGMENT_MODES:
            raise OptionsError("segment_mode must be auto or manual", "segment_mode")
        if self.audio_method not in AUDIO_METHODS:
            raise OptionsError("audio_method must be tts or manual", "audio_method")
        if not isinstance(self.max_segments, int) or not 1 <= self.max_segments <= 500:
            raise OptionsError("max_segments must be between 1 and 500", "max_segments")
        target = self.target_seconds
        if isinstance(target, str):  # a form field: "300"
            try:
                target = self.target_seconds = float(target) if target.strip() else None
            except ValueError:
                pass
        if target is not None and (
            isinstance(target, bool)
            or not isinstance(target, int | float)
            or not TARGET_LIMITS[0] <= target <= TARGET_LIMITS[1]
        ):
            raise OptionsError(
                f"target_seconds must be a number of seconds from {TARGET_LIMITS[0]} to "
                f"{TARGET_LIMITS[1]}",
                "target_seconds",
            )
        if self.diarization not in DIARIZATION_CHOICES:
            raise OptionsError(
                f"diarization must be one of: {', '.join(DIARIZATION_CHOICES)}", "diarization"
            )
        if self.word_alignment not in WORD_ALIGNMENT_CHOICES:
            raise OptionsError("word_alignment must be auto or off", "word_alignment")
        if self.tts_voice is not None and (
            not isinstance(self.tts_voice, str) or len(self.tts_voice) > 100
        ):
            raise OptionsError("tts_voice must be a voice name", "tts_voice")
        low, high = TTS_RATE_LIMITS
        if type(self.tts_rate) not in (int, float) or not low <= self.tts_rate <= high:
            raise OptionsError(f"tts_rate must be a number from {low} to {high}", "tts_rate")
        self.tts_rate = float(self.tts_rate)
        if not isinstance(self.output_settings, dict):
            raise OptionsError("output_settings must be an object", "output_settings")
        for key, value in self.output_settings.items():
            if key in OUTPUT_SETTING_FLAGS:
                if not isinstance(value, bool):
                    raise OptionsError(f"{key} must be true or false", f"output_settings.{key}")
                continue
            if key not in OUTPUT_SETTING_LIMITS:
                raise OptionsError(f"unknown output setting {key!r}", f"output_settings.{key}")
            low, high = OUTPUT_SETTING_LIMITS[key]
            if type(value) is not int or not low <= value <= high:
                raise OptionsError(
                    f"{key} must be a whole number from {low} to {high}", f"output_settings.{key}"
                )

    def to_dict(self) -> dict:
        """Return the options as plain JSON-able data."""
        return asdict(self)
