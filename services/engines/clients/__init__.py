"""OpenAI-compatible HTTP clients (chat, transcription, speech) shared by the hosted engines."""
