"""`flask --app app pipeline run|worker|sample`: run stages here, serve as a worker, make a demo."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from cli.terminal import TerminalSink
from services.episodes.budget import parse_duration
from services.pipeline.controller import PipelineController, RunRequest
from services.pipeline.local.executor import LocalExecutor
from services.run.errors import ClientError
from services.run.options import ALL_STAGES

pipeline_cli = AppGroup("pipeline", help="Run the pipeline from the terminal.")


def parse_stages(text: str) -> list[int]:
    """Parse "1-7", "1,3,5" or "2-4,6" into stage numbers."""
    stages: set[int] = set()
    for part in (p.strip() for p in text.split(",") if p.strip()):
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError as exc:
            raise click.BadParameter(f"{part!r} is not a stage number or range") from exc
        if not (first in ALL_STAGES and last in ALL_STAGES and first <= last):
            raise click.BadParameter(f"{part!r}: stages go from 1 to 7")
        stages.update(range(first, last + 1))
    if not stages:
        raise click.BadParameter("select at least one stage")
    return sorted(stages)


def parse_target(text: str) -> float:
    """Parse --target: "5m", "90s", "1m30s" or "300" (seconds) into seconds."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--target") from exc


def run_request(source: str, episode_id: str | None, preset: str | None, stages) -> RunRequest:  # noqa: ANN001
    """Return the run a command line asks for: --episode, a local file, or a URL."""
    if stages is None and not preset:
        stages = list(ALL_STAGES)
    options = {"preset": preset, "selected_stages": stages}
    if episode_id:
        return RunRequest(options=options, episode_id=episode_id)
    if Path(source).exists():
        return RunRequest(options=options, local_file=Path(source))
    return RunRequest(options=options, url=source)


@pipeline_cli.command("run")
@click.argument("source", required=False, default="")
@click.option(
    "--stages",
    "stages_text",
    default=None,
    help="Stages to run: 1-7, 1,3,5 or 2-4,6 (default: the preset's, else 1-7).",
)
@click.option("--preset", default=None, help="Name or id of a workflow preset.")
@click.option("--episode", "episode_id", default=None, help="Run on an existing episode.")
@click.option(
    "--target",
    "target_text",
    default=None,
    help="Length of the final: 5m, 90s, 1m30s or 300 (seconds). Default: at most a third "
    "of the source and at most 10 minutes.",
)
@click.option("--quiet", is_flag=True, help="Show progress only, not the log.")
@click.option(
    "--force", is_flag=True, help="Rerun every stage, also those whose inputs are unchanged."
)
def run_command(
    source: str,
    stages_text: str | None,
    preset: str | None,
    episode_id: str | None,
    target_text: str | None,
    quiet: bool,
    force: bool,
) -> None:
    """Run stages on SOURCE (a URL or a local video file) with a live progress bar."""
    if not source and not episode_id:
        raise click.UsageError("give a SOURCE (URL or file) or --episode ID")
    stages = parse_stages(stages_text) if stages_text else None
    target = parse_target(target_text) if target_text else None
    sink = TerminalSink(verbose=not quiet)
    app = current_app._get_current_object()  # the relay thread needs the app, not the proxy
    controller = PipelineController(app, sink, LocalExecutor(app, sink))
    try:
        request = run_request(source, episode_id, preset, stages)
        request.options["target_seconds"] = target
        request.force = force
        episode, session = controller.execute(request)
    except (ClientError, ValueError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Episode {episode.id} · session {session.id} · stages {session.selected_stages}")
    try:
        while not controller.executor.wait(session.id, timeout=0.5):
            pass
    except KeyboardInterrupt:
        click.echo("\nInterrupting…", err=True)
        controller.interrupt(session.id)
        sys.exit(130)
    status = (controller.status(session.id) or {}).get("status")
    files = controller.files(episode.id)
    if status == "completed":
        if files.final_video.exists():
            click.echo(f"Final video: {files.final_video}")
        sys.exit(0)
    sys.exit(130 if status == "interrupted" else 1)


@pipeline_cli.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Sessions this worker runs at once (each stage already uses every core).",
)
@click.option(
    "--queues",
    default=None,
    help="Comma-separated queues to take stages from (default: every configured queue).",
)
@click.option("--name", default=None, help="Node name, e.g. gpu1@%h (default: clipcast-PID@host).")
@click.option("--loglevel", default="INFO", show_default=True)
def worker_command(concurrency: int, queues: str | None, name: str | None, loglevel: str) -> None:
    """Run a Celery worker for the distributed mode (PIPELINE_EXECUTOR=celery)."""
    from services.pipeline.celery.app import run_worker
    from services.pipeline.celery.queue_settings import SetupError

    try:
        run_worker(current_app._get_current_object(), concurrency, queues, name, loglevel)
    except SetupError as exc:
        raise click.ClickException(str(exc)) from exc


@pipeline_cli.command("sample")
@click.option("--minutes", type=click.FloatRange(1, 90), default=2.0, show_default=True)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the mp4 (captions go next to it).",
)
@click.option("--voices", type=click.IntRange(1, 2), default=1, show_default=True)
def sample_command(minutes: float, out_path: Path | None, voices: int) -> None:
    """Write a synthetic talk video with WebVTT captions and print its path."""
    from services.sources.sample import generate_sample

    target = (
        out_path or Path(current_app.config["DATA_DIR"]) / "samples" / f"talk-{minutes:g}min.mp4"
    )
    path = generate_sample(target, minutes=minutes, voices=voices)
    click.echo(str(path))
