"""The progress coalescer holds back bursts but never loses the latest value."""

from __future__ import annotations

import time

import pytest

from services.pipeline.events import FanOutSink, ProgressCoalescer, RecordingSink

pytestmark = pytest.mark.unit


def test_first_offer_goes_out_then_bursts_are_held(monkeypatch) -> None:  # noqa: ANN001
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    coalescer = ProgressCoalescer(interval=0.2)
    assert coalescer.offer({"progress": 1}) == {"progress": 1}
    assert coalescer.offer({"progress": 2}) is None
    assert coalescer.offer({"progress": 3}) is None
    assert coalescer.due() is None
    clock[0] += 0.21
    assert coalescer.due() == {"progress": 3}
    assert coalescer.due() is None


def test_forced_offer_and_drain() -> None:
    coalescer = ProgressCoalescer(interval=10)
    coalescer.offer({"progress": 1})
    coalescer.offer({"progress": 2})
    assert coalescer.drain() == {"progress": 2}
    assert coalescer.drain() is None
    assert coalescer.offer({"progress": 100}, force=True) == {"progress": 100}


def test_fan_out_reaches_every_sink() -> None:
    first, second = RecordingSink(), RecordingSink()
    FanOutSink(first, second).emit("log_stream", {"seq": 1})
    assert first.of("log_stream") == [{"seq": 1}] == second.of("log_stream")
