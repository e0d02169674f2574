"""Stage selections on the command line."""

from __future__ import annotations

import click
import pytest

from cli.pipeline import parse_stages

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1-7", [1, 2, 3, 4, 5, 6, 7]), ("1,3,5", [1, 3, 5]), ("2-4,6", [2, 3, 4, 6]), ("7", [7])],
)
def test_parse_stages(text: str, expected: list[int]) -> None:
    assert parse_stages(text) == expected


@pytest.mark.parametrize("text", ["0-3", "8", "a", "5-2", ""])
def test_parse_stages_rejects(text: str) -> None:
    with pytest.raises(click.BadParameter):
        parse_stages(text)
