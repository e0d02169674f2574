"""Speaker labels ("diarization") for transcripts whose source named no speakers."""
