// The session store under Node's own test runner: snapshot, deltas, log merge by seq, derived.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  GAP_TRIES, SessionStore, STATE_PAGE, earlierRange, queuedWords, subStageIndex,
} from "../../static/js/sessionstore.js";

const T0 = Date.parse("2026-01-01T10:00:00Z");
const iso = (ms) => new Date(ms).toISOString();
const line = (seq, sessionId = "s1") => ({ session_id: sessionId, seq, level: "INFO", message: `line ${seq}` });
const seqs = (out) => out.lines.map((r) => r.seq);

function snapshot(fields = {}) {
  return {
    session_id: "s1", episode_id: "ep1", status: "running", selected_stages: [1, 2, 3],
    overall_progress: 20, current_stage: 2, started_at: iso(T0), outputs: {},
    stages: {
      1: { status: "completed", progress: 100, started_at: iso(T0), finished_at: iso(T0 + 5000) },
      2: { status: "running", progress: 40, sub_stage: "align", started_at: iso(T0 + 5000) },
      3: { status: "pending", progress: 0 },
    },
    ...fields,
  };
}

function watching(sessionId = "s1") {
  const store = new SessionStore();
  store.watch(sessionId);
  store.request();
  return store;
}

describe("snapshot", () => {
  it("merges a snapshot and never moves a stage or the run backwards", () => {
    const store = watching();
    store.applyState({ session: snapshot(), logs: [] });
    assert.equal(store.status, "running");
    assert.equal(store.stage(2).progress, 40);
    assert.equal(store.stage(2).sub_stage, "align");

    const older = snapshot({ status: "queued", overall_progress: 5 });
    older.stages[2] = { status: "pending", progress: 10 };
    store.request();
    store.applyState({ session: older, logs: [] });
    assert.equal(store.status, "running");
    assert.equal(store.session.overall, 20);
    assert.equal(store.stage(2).status, "running");
    assert.equal(store.stage(2).progress, 40);
  });

  it("takes completed as 100% and remembers the failed stage", () => {
    const store = watching();
    store.applyState({ session: snapshot({ status: "completed", overall_progress: 97 }) });
    assert.equal(store.session.overall, 100);
    const failed = watching();
    const snap = snapshot({ status: "failed", error: "boom" });
    snap.stages[2] = { status: "failed", progress: 40, error: "no speech found" };
    failed.applyState({ session: snap });
    assert.equal(failed.session.failed_stage, 2);
    assert.equal(failed.stage(2).error, "no speech found");
    assert.equal(failed.resumeStage(), 2);
  });

  it("adopts the running session when it watches none", () => {
    const store = new SessionStore({ follow: true });
    store.request();
    const out = store.applyState({ session: snapshot(), logs: [line(1), line(2)] });
    assert.equal(out.started, "s1");
    assert.equal(store.sessionId, "s1");
    assert.deepEqual(seqs(out), [1, 2]);
    assert.deepEqual(store.requestPayload(), { session_id: "s1", after_seq: 2 });
  });

  it("says missing only when no other answer is on its way", () => {
    const store = watching("gone");
    store.request();
    assert.equal(store.applyState({ session: null }).changed, false);
    assert.equal(store.status, "queued");
    assert.equal(store.applyState({ session: null }).changed, true);
    assert.equal(store.status, "missing");
  });

  it("ignores an answer about another session", () => {
    const store = watching();
    const out = store.applyState({ session: snapshot({ session_id: "other" }), logs: [line(1, "other")] });
    assert.equal(out.changed, false);
    assert.equal(store.lastSeq, 0);
  });
});

describe("log merge by seq", () => {
  it("never doubles a line across a reload's snapshot and live lines", () => {
    const store = watching();
    assert.deepEqual(seqs(store.applyState({ session: snapshot(), logs: [line(1), line(2), line(3)] })), [1, 2, 3]);
    assert.deepEqual(seqs(store.applyLog(line(3))), []);
    assert.deepEqual(seqs(store.applyLog(line(4))), [4]);
    // A reconnect asks for the lines after the last one held, and a doubled answer adds nothing.
    store.forgetRequests();
    assert.deepEqual(store.request(), { session_id: "s1", after_seq: 4 });
    assert.deepEqual(seqs(store.applyState({ session: snapshot(), logs: [line(3), line(4), line(5)] })), [5]);
  });

  it("holds live lines while a snapshot is awaited, then merges them in order", () => {
    const store = watching();
    assert.deepEqual(seqs(store.applyLog(line(3))), []);
    assert.deepEqual(seqs(store.applyLog(line(2))), []);
    const out = store.applyState({ session: snapshot(), logs: [line(1)] });
    assert.deepEqual(seqs(out), [1, 2, 3]);
    assert.equal(out.requests, 0);
  });

  it("keeps held live lines until the last awaited answer", () => {
    const store = watching();
    store.request();
    store.applyLog(line(2));
    assert.deepEqual(seqs(store.applyState({ session: snapshot(), logs: [line(1)] })), [1]);
    assert.deepEqual(seqs(store.applyState({ session: snapshot(), logs: [] })), [2]);
  });

  it("asks for a hole, keeps the lines after it, and loses none once filled", () => {
    const store = watching();
    store.applyState({ session: snapshot(), logs: [line(1)] });
    const gap = store.applyLog(line(3));
    assert.deepEqual(seqs(gap), []);
    assert.equal(gap.requests, 1);
    assert.deepEqual(store.requestPayload(), { session_id: "s1", after_seq: 1 });
    assert.deepEqual(seqs(store.applyLog(line(4))), []); // held: an answer is on its way
    const filled = store.applyState({ session: snapshot(), logs: [line(2)] });
    assert.deepEqual(seqs(filled), [2, 3, 4]);
  });

  it(`shows the lines after a hole the server cannot fill, after ${GAP_TRIES} tries`, () => {
    const store = watching();
    store.applyState({ session: snapshot(), logs: [line(1)] });
    let asked = 0;
    for (let i = 0; i < GAP_TRIES; i += 1) {
      asked += store.applyState({ session: snapshot(), logs: [line(5)] }).requests;
    }
    assert.equal(asked, GAP_TRIES);
    const shown = store.applyState({ session: snapshot(), logs: [line(5), line(6)] });
    assert.deepEqual(seqs(shown), [5, 6]);
  });

  it("asks again after a full page of lines", () => {
    const store = watching();
    const page = Array.from({ length: STATE_PAGE }, (_, i) => line(i + 1));
    const out = store.applyState({ session: snapshot(), logs: page });
    assert.equal(out.lines.length, STATE_PAGE);
    assert.equal(out.requests, 1);
    assert.deepEqual(store.requestPayload(), { session_id: "s1", after_seq: STATE_PAGE });
  });

  it("computes the range of earlier lines", () => {
    assert.deepEqual(earlierRange(1201, 500), { after: 700, limit: 500 });
    assert.deepEqual(earlierRange(40, 500), { after: 0, limit: 39 });
  });
});

describe("events", () => {
  function running() {
    const store = watching();
    store.applyState({ session: snapshot(), logs: [] }, { settles: true });
    return store;
  }

  it("applies progress, drops stale progress and announces a stage's end", () => {
    const store = running();
    const progress = { session_id: "s1", stage: 2, stage_name: "Transcript", status: "running", progress: 60,
      overall_progress: 30, sub_stage: "words", eta_seconds: 12, timestamp: iso(T0 + 9000) };
    assert.equal(store.applyEvent("pipeline_progress", progress, T0 + 9000).changed, true);
    assert.equal(store.stage(2).progress, 60);
    assert.equal(store.session.overall, 30);
    const done = store.applyEvent("pipeline_progress", { ...progress, status: "completed", progress: 100 }, T0 + 9500);
    assert.equal(done.announce, "Stage 2, Transcript: Completed.");
    const stale = store.applyEvent("pipeline_progress", { ...progress, progress: 70 }, T0 + 9600);
    assert.equal(stale.changed, false);
    assert.equal(store.stage(2).status, "completed");
    assert.equal(store.stage(2).progress, 100);
  });

  it("ignores another session's events, and follows a new run when asked to", () => {
    const store = running();
    const other = { session_id: "s2", stage: 1, status: "running", progress: 50 };
    const out = store.applyEvent("pipeline_progress", other);
    assert.equal(out.changed, false);
    assert.equal(out.adopt, null);
    assert.equal(store.stage(1).status, "completed");
    const follower = new SessionStore({ follow: true });
    assert.equal(follower.applyEvent("pipeline_progress", other).adopt, "s2");
    assert.equal(follower.applyLog(line(1, "s2")).adopt, "s2");
  });

  it("marks a stage failed on pipeline_error and offers to resume from it", () => {
    const store = running();
    const out = store.applyEvent("pipeline_error",
      { session_id: "s1", stage: 2, stage_name: "Transcript", error: "no audio", timestamp: iso(T0 + 7000) });
    assert.match(out.announce, /failed: no audio/);
    assert.equal(store.stage(2).status, "failed");
    assert.equal(store.resumeStage(), 2);
  });

  it("waits for a selection and rechecks on progress while waiting", () => {
    const store = running();
    store.applyEvent("pipeline_waiting",
      { session_id: "s1", episode_id: "ep1", stage: 3, reason: "pick segments", picker_url: "/segments/episode/ep1" });
    assert.equal(store.status, "waiting_for_selection");
    assert.equal(store.stage(3).message, "pick segments");
    assert.equal(store.pickerUrl(), "/segments/episode/ep1");
    const out = store.applyEvent("pipeline_progress", { session_id: "s1", stage: 3, status: "running", progress: 1 });
    assert.equal(out.recheck, true);
  });

  it("keeps the picker link on this site", () => {
    const store = running();
    store.applyEvent("pipeline_waiting", { session_id: "s1", episode_id: "ep1", picker_url: "https://evil.example/" });
    assert.equal(store.pickerUrl(), "/segments/episode/ep1");
  });

  it("ends on completion, asks for the final snapshot and keeps the media URLs", () => {
    const store = running();
    const out = store.applyEvent("pipeline_completion", { session_id: "s1", episode_id: "ep1", status: "completed",
      outputs: { final_video: "/media/ep1/Output/Final/final.mp4" }, timestamp: iso(T0 + 60000) });
    assert.equal(out.requests, 1);
    assert.equal(store.session.overall, 100);
    store.applyState({ session: snapshot({ status: "completed", outputs: { final_video: "Output/Final/final.mp4",
      final_srt: "Output/Final/final.srt" } }) });
    assert.equal(store.outputUrl("final_video"), "/media/ep1/Output/Final/final.mp4");
    assert.equal(store.outputUrl("final_srt"), "/media/ep1/Output/Final/final.srt");
  });

  it("keeps an interrupted run interrupted when a late snapshot says running", () => {
    const store = running();
    store.applyEvent("pipeline_completion", { session_id: "s1", episode_id: "ep1", status: "interrupted" });
    store.applyState({ session: snapshot({ status: "running" }) });
    assert.equal(store.status, "interrupted");
    assert.equal(store.resumeStage(), 2);
  });
});

describe("derived", () => {
  it("measures elapsed time on the server's clock", () => {
    const store = watching();
    store.applyState({ session: snapshot() });
    // This clock runs 60 s ahead of the server's: the event's timestamp tells.
    store.applyEvent("pipeline_progress", { session_id: "s1", stage: 2, status: "running", progress: 50,
      timestamp: iso(T0 + 10000) }, T0 + 70000);
    assert.equal(store.elapsedSeconds(T0 + 75000), 15);
    const { elapsed, eta } = store.stageTiming(store.stage(2), T0 + 75000);
    assert.equal(elapsed, 10);
    assert.equal(eta, 10);
  });


  it("finds the current sub-stage by name, else by index", () => {
    const description = { sub_stages: ["extract", "align", "words"] };
    assert.equal(subStageIndex(description, { sub_stage: "words", sub_stage_index: 0 }), 2);
    assert.equal(subStageIndex(description, { sub_stage: "other", sub_stage_index: 1 }), 1);
    assert.equal(subStageIndex(description, { sub_stage: null, sub_stage_index: null }), -1);
  });

  it("tells a run's end once, and only to a page that saw it run", () => {
    const store = watching();
    store.applyState({ session: snapshot() });
    assert.equal(store.takeEnd(), null);
    store.applyEvent("pipeline_completion", { session_id: "s1", episode_id: "ep1", status: "completed" });
    assert.equal(store.takeEnd()?.session_id, "s1");
    assert.equal(store.takeEnd(), null);
    const late = watching();
    late.applyState({ session: snapshot({ status: "completed" }) });
    assert.equal(late.takeEnd(), null);
  });

  it("lists the selected stages that completed", () => {
    const store = watching();
    store.applyState({ session: snapshot() });
    assert.deepEqual(store.completedStages(), [1]);
    assert.equal(store.isSelected(3), true);
    assert.equal(store.isSelected(7), false);
  });
});

describe("queue", () => {
  it("keeps a queued session's place in line until it runs", () => {
    const store = watching();
    store.applyState({ session: snapshot({ status: "queued", queue_position: 2 }), logs: [] });
    assert.equal(store.status, "queued");
    assert.equal(store.session.queue_position, 2);
    store.request();
    store.applyState({ session: snapshot({ status: "queued", queue_position: 1 }), logs: [] });
    assert.equal(store.session.queue_position, 1);
    store.request();
    store.applyState({ session: snapshot({ queue_position: null }), logs: [] });
    assert.equal(store.status, "running");
    assert.equal(store.session.queue_position, null);
  });

  it("says the place in line in words", () => {
    assert.equal(queuedWords(1), "Queued: 1st in line");
    assert.equal(queuedWords(2), "Queued: 2nd in line");
    assert.equal(queuedWords(3), "Queued: 3rd in line");
    assert.equal(queuedWords(12), "Queued: 12th in line");
    assert.equal(queuedWords(22), "Queued: 22nd in line");
    assert.equal(queuedWords(null), "Queued");
  });
});
