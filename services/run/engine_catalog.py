"""Engine names per kind, the module that holds each, and the offline fallback of a kind.

Plain data, so that options can be checked on any floor without importing an engine.
"""

from __future__ import annotations

# kind -> name -> "module:Class". "auto" choices are resolved by the stage, not here.
ENGINE_PATHS: dict[str, dict[str, str]] = {
    "transcript": {
        "captions": "services.engines.transcript.captions:CaptionsEngine",
        "pocketsphinx": "services.engines.transcript.sphinx:PocketsphinxEngine",
        "whisper": "services.engines.transcript.whisper:WhisperEngine",
        "faster-whisper": "services.engines.transcript.whisper:FasterWhisperEngine",
        "openai": "services.engines.transcript.openai_asr:OpenAITranscriptEngine",
    },
    "analysis": {
        "heuristic": "services.engines.analysis.heuristic:HeuristicAnalysisEngine",
        "llm": "services.engines.analysis.llm:LLMAnalysisEngine",
    },
    "narrative": {
        "template": "services.engines.narrative.sandbox:SandboxedTemplateEngine",
        "llm": "services.engines.narrative.llm:LLMNarrativeEngine",
    },
    "tts": {
        "piper": "services.engines.tts.piper:PiperEngine",
        "espeak": "services.engines.tts.espeak:EspeakEngine",
        "edge-tts": "services.engines.tts.edge:EdgeTTSEngine",
        "elevenlabs": "services.engines.tts.elevenlabs:ElevenLabsEngine",
        "openai": "services.engines.tts.openai_tts:OpenAITTSEngine",
    },
    # Speaker labels for stage 2 (RunOptions.diarization); listed for the engines page too.
    "diarization": {
        "embedded": "services.engines.diarization.embedded:EmbeddedDiarizer",
        "pyannote": "services.engines.diarization.pyannote:PyannoteDiarizer",
    },
}

# The offline engine to suggest when a hosted or optional one fails.
FALLBACKS: dict[str, str] = {
    "transcript": "captions (or pocketsphinx)",
    "analysis": "heuristic",
    "narrative": "template",
    "tts": "espeak",
    "diarization": "embedded",
}
