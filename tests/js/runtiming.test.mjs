// The monitor's time maths under Node's test runner: windowed stage ETAs that never stick, and
// the overall bar and ETA weighted by each stage's expected duration.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  addSample, measuredEta, overallEta, pace, RATE_WINDOW_MS, stageEta, stageWeights, weightedProgress,
} from "../../static/js/runtiming.js";
import { SessionStore } from "../../static/js/sessionstore.js";

const T0 = Date.parse("2026-01-01T10:00:00Z");
const iso = (ms) => new Date(ms).toISOString();

describe("stage ETA", () => {
  it("measures the rate over the recent window, not since the start", () => {
    const samples = [];
    addSample(samples, T0, 0);
    addSample(samples, T0 + 100000, 10); // slow start: 10 % in 100 s
    addSample(samples, T0 + 110000, 20); // now 10 % in 10 s
    addSample(samples, T0 + 120000, 30);
    addSample(samples, T0 + 130000, 40);
    addSample(samples, T0 + 140000, 50);
    // The 0 % sample fell out of the window; 10 % -> 50 % over 40 s: 50 % left takes 50 s.
    assert.equal(samples[0].progress, 10);
    assert.equal(measuredEta(samples, T0 + 140000), 50);
    assert.ok(samples.every((s, i) => i === 0 || s.at >= T0 + 140000 - RATE_WINDOW_MS));
  });

  it("grows while no progress comes, instead of standing still", () => {
    const samples = [];
    addSample(samples, T0, 0);
    addSample(samples, T0 + 10000, 50);
    const etas = [10000, 20000, 40000, 70000].map((dt) => measuredEta(samples, T0 + dt));
    assert.equal(etas[0], 10);
    for (let i = 1; i < etas.length; i += 1) assert.ok(etas[i] > etas[i - 1], `${etas}`);
  });

  it("keeps no sample that goes back in progress or time", () => {
    const samples = [];
    addSample(samples, T0, 10);
    addSample(samples, T0 + 1000, 5);
    addSample(samples, T0 - 1000, 20);
    assert.deepEqual(samples, [{ at: T0, progress: 10 }]);
  });

  it("falls back to the average rate, then to the expected duration, then to nothing", () => {
    const one = [{ at: T0, progress: 0 }];
    assert.equal(stageEta(one, T0 + 30000, 100, 30, 25), 90);
    assert.equal(stageEta(one, T0 + 30000, 100, 30, 0), 70);
    assert.equal(stageEta(one, T0 + 130000, 100, 130, 0), null);
    assert.equal(stageEta(one, T0 + 1000, null, 1, 50), null);
    assert.equal(stageEta(one, T0 + 130000, 100, 130, 100), 0);
  });
});

describe("overall, weighted by expected durations", () => {
  const estimates = {
    source_seconds: 600,
    stages: { 1: { expected_seconds: 10 }, 2: { expected_seconds: 300 }, 3: { expected_seconds: 90 } },
  };

  it("weighs stages by their expected seconds, not by their count", () => {
    const weights = stageWeights([1, 2, 3], estimates);
    assert.deepEqual(weights, { 1: 10, 2: 300, 3: 90 });
    const stages = [
      { number: 1, status: "completed", progress: 100 },
      { number: 2, status: "running", progress: 10 },
      { number: 3, status: "pending", progress: 0 },
    ];
    // By count this would read 36.7 %; by time it is (10 + 30) / 400 = 10 %.
    assert.equal(weightedProgress(stages, weights), 10);
    assert.ok(Math.abs(weightedProgress(stages, stageWeights([1, 2, 3], null)) - 110 / 3) < 1e-9);
  });

  it("uses the cost per source second while the source's length is unknown", () => {
    const rates = { source_seconds: null, stages: { 1: { per_source_second: 0.05 }, 2: { per_source_second: 0.5 } } };
    assert.deepEqual(stageWeights([1, 2, 7], rates), { 1: 0.05, 2: 0.5, 7: 0.05 });
  });

  it("adds the running stage's ETA to the expected time of those to come, at this run's pace", () => {
    const expected = { 1: 10, 2: 300, 3: 90 };
    const stages = [
      { number: 1, status: "completed", took: 20 },
      { number: 2, status: "running", eta: 100 },
      { number: 3, status: "pending" },
    ];
    assert.equal(pace(stages, expected), 2);
    assert.equal(overallEta(stages, expected), 100 + 2 * 90);
    assert.equal(overallEta([{ number: 2, status: "running", eta: null }], expected), null);
    assert.equal(overallEta([{ number: 3, status: "pending" }], { 3: null }), null);
    assert.equal(pace([{ number: 1, status: "completed", took: 1000 }], expected), 4);
  });
});

describe("the store", () => {
  function running() {
    const store = new SessionStore();
    store.watch("s1");
    store.request();
    store.applyState({ session: {
      session_id: "s1", episode_id: "ep1", status: "running", selected_stages: [1, 2, 3], started_at: iso(T0),
      overall_progress: 36.7, current_stage: 2, outputs: {},
      stages: {
        1: { status: "completed", progress: 100, started_at: iso(T0), finished_at: iso(T0 + 10000) },
        2: { status: "running", progress: 0, started_at: iso(T0 + 10000) },
        3: { status: "pending", progress: 0 },
      },
    }, logs: [] });
    return store;
  }
  const progress = (value, at) => ({ session_id: "s1", stage: 2, stage_name: "Transcript", status: "running",
    progress: value, overall_progress: 0, timestamp: iso(at) });

  it("shows the weighted overall and ETA once the estimates arrive, never going back", () => {
    const store = running();
    store.applyEvent("pipeline_progress", progress(10, T0 + 40000), T0 + 40000);
    assert.equal(store.applyEstimates({ session_id: "other" }).changed, false);
    assert.equal(store.applyEstimates({ session_id: "s1", source_seconds: 600, stages: {
      1: { expected_seconds: 10 }, 2: { expected_seconds: 300 }, 3: { expected_seconds: 90 } } }).changed, true);
    const { progress: overall, eta } = store.overall(T0 + 40000);
    assert.equal(overall, 10);
    // Stage 2: 10 % in 30 s, 270 s left; stage 3 expected 90 s at the pace of stage 1 (10/10 = 1).
    assert.equal(eta, 270 + 90);
    assert.equal(store.stageTiming(store.stage(2), T0 + 40000).eta, 270);
    store.applyEvent("pipeline_progress", progress(10, T0 + 40000), T0 + 100000);
    assert.equal(store.overall(T0 + 100000).progress, 10);
  });

  it("asks for the estimates again when a stage ends while the source's length is unknown", () => {
    const store = new SessionStore();
    store.watch("s1");
    store.request();
    store.applyState({ session: { session_id: "s1", status: "running", selected_stages: [1, 2], stages: {} } });
    store.applyEstimates({ session_id: "s1", source_seconds: null, stages: {} });
    const done = { session_id: "s1", stage: 1, stage_name: "Extraction", status: "completed", progress: 100,
      timestamp: iso(T0 + 5000) };
    assert.equal(store.applyEvent("pipeline_progress", done, T0 + 5000).estimates, true);
    store.applyEstimates({ session_id: "s1", source_seconds: 60, stages: {} });
    const again = store.applyEvent("pipeline_progress", { ...done, stage: 2 }, T0 + 6000);
    assert.equal(again.estimates, false);
  });

  it("has no ETA while waiting for the user", () => {
    const store = running();
    store.applyEvent("pipeline_waiting", { session_id: "s1", stage: 2, reason: "pick" }, T0 + 20000);
    assert.equal(store.overall(T0 + 20000).eta, null);
  });
});
