"""Words for counts in messages a person reads: "1 segment", "3 segments"."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """Return the count and the word, in the plural unless the count is one."""
    return f"{count} {word if count == 1 else many or word + 's'}"
