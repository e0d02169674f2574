"""The target length on the command line: `pipeline run --target 5m`."""

from __future__ import annotations

import click
import pytest

import cli.pipeline
from cli.pipeline import parse_target
from services.run.errors import ClientError


@pytest.mark.parametrize(("text", "seconds"), [("5m", 300), ("90s", 90), ("300", 300)])
def test_parse_target(text: str, seconds: float) -> None:
    assert parse_target(text) == seconds


@pytest.mark.parametrize("text", ["five minutes", "5x", ""])
def test_parse_target_rejects(text: str) -> None:
    with pytest.raises(click.BadParameter, match="not a length"):
        parse_target(text)


class _Controller:
    """Stands in for the pipeline controller: records the request, then refuses it."""

    requests: list = []

    def __init__(self, *args: object) -> None:
        pass

    def execute(self, request):  # noqa: ANN001, ANN201
        self.requests.append(request)
        raise ClientError("stopped by the test")


def test_run_passes_the_target(app, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(cli.pipeline, "PipelineController", _Controller)
    monkeypatch.setattr(cli.pipeline, "LocalExecutor", lambda *args: None)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["pipeline", "run", "--episode", "ep1", "--target", "1m30s"])
    assert result.exit_code == 1 and "stopped by the test" in result.output
    assert _Controller.requests[-1].options["target_seconds"] == 90
    bad = runner.invoke(args=["pipeline", "run", "--episode", "ep1", "--target", "soon"])
    assert bad.exit_code == 2 and "--target" in bad.output
