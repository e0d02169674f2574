// The state of one watched run, apart from the page: a snapshot, then deltas from Socket.IO;
// log lines merged by seq (none lost, none doubled, across reloads and reconnects); and what
// the views derive from it. No DOM, no socket, no timers: each method is given what it needs
// (the time, the payload) and returns an outcome that says what its caller should do.
import { isActive, outputUrl } from "./api.js";
import { parseTime } from "./format.js";
import {
  addSample, expectedSeconds, overallEta, stageEta, stageWeights, weightedProgress,
} from "./runtiming.js";

export const SESSION_RANK = { queued: 0, running: 1, waiting_for_selection: 1, completed: 2, failed: 2, interrupted: 2 };
export const STAGE_RANK = { pending: 0, running: 1, completed: 2, failed: 2, skipped: 2, interrupted: 2 };
export const TERMINAL = new Set(["completed", "failed", "skipped", "interrupted"]);
export const STATUS_WORDS = {
  idle: "No run in progress",
  queued: "Queued",
  running: "Running",
  waiting_for_selection: "Waiting for your segment selection",
  completed: "Completed",
  failed: "Failed",
  interrupted: "Interrupted",
  pending: "Waiting",
  skipped: "Reused", // a stage is skipped only when its inputs and options are unchanged
  "not-selected": "Not in this run",
  missing: "Session not found",
};
// A pipeline_state batch this long may have more behind it: ask again until a short one.
export const STATE_PAGE = 1000;
// How many times a hole in the log is asked for before the lines after it are shown anyway.
export const GAP_TRIES = 3;

/** "Queued: 2nd in line" for a session's place in the queue (1 = next), "Queued" without one. */
export function queuedWords(position) {
  const n = Number(position);
  if (!Number.isInteger(n) || n < 1) return STATUS_WORDS.queued;
  const suffix = [11, 12, 13].includes(n % 100) ? "th" : { 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th";
  return `${STATUS_WORDS.queued}: ${n}${suffix} in line`;
}

/** The state of a stage nothing has been heard about yet (`samples`: its progress over time). */
export function freshStage(number = null) {
  return { number, status: "pending", progress: 0, sub_stage: null, sub_stage_index: null, message: null,
    error: null, started: null, finished: null, samples: [] };
}

/** The state of a session before its snapshot arrives. */
export function emptySession(id) {
  return { session_id: id, episode_id: null, status: "queued", selected_stages: [], stages: {},
    overall: 0, weighted: 0, outputs: {}, error: null, started: null, finished: null, current_stage: null,
    failed_stage: null, queue_position: null };
}

/**
 * What applying something asks of the caller: `changed` (draw again), `requests` (state
 * requests counted here that the caller sends), `lines` (log records to show, in seq order),
 * `announce` (words for screen readers), `adopt` (a session id to watch: following),
 * `started` (a session adopted from a snapshot), `recheck` (ask for the state again soon),
 * `estimates` (fetch the expected stage durations again: the source's length may be known now).
 */
export function outcome(fields = {}) {
  return { changed: false, requests: 0, lines: [], announce: null, adopt: null, started: null,
    recheck: false, estimates: false, ...fields };
}

/** Record a running stage's progress at `at` (server ms), its start counting as 0 %. */
export function sampleProgress(stage, at) {
  if (stage.status !== "running") return;
  if (!stage.samples.length && stage.started && stage.started <= at) addSample(stage.samples, stage.started, 0);
  addSample(stage.samples, at, stage.progress);
}

/** The index of a stage's current sub-stage in its description, or -1. */
export function subStageIndex(description, stage) {
  if (stage.sub_stage) {
    const i = description.sub_stages.indexOf(stage.sub_stage);
    if (i >= 0) return i;
  }
  return Number.isInteger(stage.sub_stage_index) ? stage.sub_stage_index : -1;
}

/** The `after` and `limit` that fetch up to `limit` log lines just before seq `before`. */
export function earlierRange(before, limit) {
  return { after: Math.max(0, before - 1 - limit), limit: Math.min(limit, before - 1) };
}

export class SessionStore {
  /** @param {{follow?: boolean}} options follow: with no session, adopt the running one. */
  constructor({ follow = false } = {}) {
    this.follow = follow;
    this.skew = 0; // this clock minus the server's, from the last event's timestamp
    this.watch(null);
  }

  /** Watch one session from scratch (null: none, or the running one when following). */
  watch(sessionId) {
    this.adopt(sessionId || null);
    this.pendingLive = [];
    this.awaiting = 0;
  }

  /** Take `sessionId` as the watched session, keeping the count of unanswered requests. */
  adopt(sessionId) {
    this.sessionId = sessionId;
    this.session = sessionId ? emptySession(sessionId) : null;
    this.estimates = null;
    this.lastSeq = 0;
    this.gapTries = 0;
    this.endTaken = false;
    this.sawActive = false;
  }

  /** The payload of a state request: the watched session and the last line held. */
  requestPayload() {
    return this.sessionId ? { session_id: this.sessionId, after_seq: this.lastSeq } : {};
  }

  /** Count a state request going out; return its payload. */
  request() {
    this.awaiting += 1;
    return this.requestPayload();
  }

  /** Forget the unanswered requests (after a reconnect, or when asking failed). */
  forgetRequests() {
    this.awaiting = 0;
  }

  /** The server's clock now, from this clock's `now` (ms). */
  serverNow(now = Date.now()) {
    return now - this.skew;
  }

  stamp(timestamp, now) {
    const ms = parseTime(timestamp);
    if (ms !== null) this.skew = now - ms;
    return ms ?? this.serverNow(now);
  }

  /** The state of stage `number`, made fresh when first asked for. */
  stage(number) {
    const key = String(number);
    if (!this.session.stages[key]) this.session.stages[key] = freshStage(Number(number));
    return this.session.stages[key];
  }

  // ------------------------------------------------------------------ the snapshot
  /**
   * Apply a `pipeline_state` answer `{session, logs}`; `settles` (an answer fetched over HTTP
   * after the socket stayed silent) stands for every request still unanswered.
   */
  applyState({ session, logs } = {}, { settles = false } = {}) {
    this.awaiting = settles ? 0 : Math.max(0, this.awaiting - 1);
    const out = outcome({ changed: true });
    if (!this.sessionId) {
      if (!session) return out;
      this.adopt(session.session_id);
      out.started = session.session_id;
    } else if (!session || session.session_id !== this.sessionId) {
      if (session || this.awaiting) return outcome(); // an answer about another session
      this.session.status = "missing";
      return out;
    }
    this.mergeSnapshot(session);
    const list = Array.isArray(logs) ? logs : [];
    this.addLines(out, this.mergeLogs(list, false));
    if (!this.awaiting) {
      const live = this.pendingLive.sort((a, b) => a.seq - b.seq);
      this.pendingLive = [];
      this.addLines(out, this.mergeLogs(live, true));
    }
    if (list.length >= STATE_PAGE) out.requests += this.countRequest();
    return out;
  }

  addLines(out, merged) {
    out.lines.push(...merged.lines);
    out.requests += merged.requests;
  }

  countRequest() {
    this.awaiting += 1;
    return 1;
  }

  /** Merge a snapshot into the state: nothing already seen goes backwards. */
  mergeSnapshot(snap) {
    const s = this.session;
    s.episode_id = snap.episode_id;
    s.selected_stages = snap.selected_stages || s.selected_stages;
    if ((SESSION_RANK[snap.status] ?? 0) >= (SESSION_RANK[s.status] ?? 0)) s.status = snap.status;
    s.queue_position = s.status === "queued" ? snap.queue_position ?? null : null;
    s.overall = Math.max(s.overall, Number(snap.overall_progress) || 0);
    if (snap.status === "completed") s.overall = 100;
    s.error = snap.error ?? s.error;
    s.current_stage = snap.current_stage ?? s.current_stage;
    s.started = parseTime(snap.started_at) ?? s.started;
    s.finished = parseTime(snap.finished_at) ?? s.finished;
    s.resumed_from = snap.resumed_from;
    for (const [key, value] of Object.entries(snap.outputs || {})) {
      if (!s.outputs[key] || !String(s.outputs[key]).startsWith("/")) s.outputs[key] = value;
    }
    for (const [key, snapStage] of Object.entries(snap.stages || {})) {
      const stage = this.stage(key);
      const higher = (STAGE_RANK[snapStage.status] ?? 0) > (STAGE_RANK[stage.status] ?? 0);
      const newer = higher || (snapStage.status === stage.status && snapStage.progress >= stage.progress);
      if (higher) stage.status = snapStage.status;
      stage.progress = Math.max(stage.progress, Number(snapStage.progress) || 0);
      if (stage.status === "completed") stage.progress = 100;
      if (newer) {
        stage.sub_stage = snapStage.sub_stage ?? stage.sub_stage;
        stage.sub_stage_index = snapStage.sub_stage_index ?? stage.sub_stage_index;
        stage.message = snapStage.message ?? stage.message;
      }
      stage.error = snapStage.error ?? stage.error;
      stage.started = parseTime(snapStage.started_at) ?? stage.started;
      stage.finished = parseTime(snapStage.finished_at) ?? stage.finished;
      if (stage.status === "running" && stage.started) sampleProgress(stage, stage.started);
      if (stage.status === "failed" && !s.failed_stage) s.failed_stage = Number(key);
    }
  }

  // ------------------------------------------------------------------ the log
  /**
   * Take the records (oldest first) that continue the log without a hole: `{lines, requests}`.
   * A hole is asked for (GAP_TRIES times) before the lines after it are shown anyway; live
   * lines after a hole wait for the answer.
   */
  mergeLogs(records, live) {
    const lines = [];
    let requests = 0;
    for (const record of records) {
      if (record.seq <= this.lastSeq) continue; // already held: never doubled
      if (record.seq !== this.lastSeq + 1) {
        if (this.gapTries < GAP_TRIES) {
          this.gapTries += 1;
          if (live) this.pendingLive.push(...records.filter((r) => r.seq >= record.seq));
          requests += this.countRequest();
          break;
        }
        this.gapTries = 0; // the server could not fill it after several tries: show what we have
      } else {
        this.gapTries = 0;
      }
      this.lastSeq = record.seq;
      lines.push(record);
    }
    return { lines, requests };
  }

  /** Apply one live `log_stream` record. */
  applyLog(record) {
    const other = this.foreign(record);
    if (other) return other;
    if (this.awaiting) {
      this.pendingLive.push(record); // merged after the snapshot that is on its way
      return outcome();
    }
    const out = outcome();
    this.addLines(out, this.mergeLogs([record], true));
    return out;
  }

  // ------------------------------------------------------------------ deltas
  /** Apply one Socket.IO event by its name (`pipeline_progress`, ...); `now` in ms. */
  applyEvent(name, payload, now = Date.now()) {
    const other = this.foreign(payload);
    if (other) return other;
    const handler = EVENT_HANDLERS[name];
    return handler ? handler(this, payload, now) : outcome();
  }

  /** Null for an event about the watched session; else the outcome of ignoring it. */
  foreign(payload) {
    if (!payload || !payload.session_id) return outcome();
    if (payload.session_id === this.sessionId && this.session) return null;
    return outcome({ adopt: this.follow && !this.sessionId ? payload.session_id : null });
  }

  markRunning() {
    if (SESSION_RANK[this.session.status] < SESSION_RANK.running) this.session.status = "running";
  }

  // ------------------------------------------------------------------ derived
  /** The session's status, "idle" with none. */
  get status() {
    return this.session ? this.session.status : "idle";
  }

  /** Whether stage `number` belongs to the watched run. */
  isSelected(number) {
    const s = this.session;
    return Boolean(s && (s.selected_stages.includes(number) || s.stages[String(number)]));
  }

  /** The earliest stage start heard of, or null. */
  firstStageStart() {
    if (!this.session) return null;
    const starts = Object.values(this.session.stages).map((st) => st.started).filter(Boolean);
    return starts.length ? Math.min(...starts) : null;
  }

  /** Seconds the run has taken (until its end, or until `now`), or null before it starts. */
  elapsedSeconds(now = Date.now()) {
    const s = this.session;
    const started = s?.started ?? this.firstStageStart();
    if (!started) return null;
    const end = s?.finished && !isActive(s.status) ? s.finished : this.serverNow(now);
    return (end - started) / 1000;
  }

  /**
   * A stage's elapsed seconds and estimated seconds left (null when unknown): measured from its
   * progress over the last window, else its average rate, else what its expected time leaves.
   */
  stageTiming(stage, now = Date.now()) {
    if (!stage.started) return { elapsed: null, eta: null };
    const at = this.serverNow(now);
    const end = TERMINAL.has(stage.status) && stage.finished ? stage.finished : at;
    const elapsed = (end - stage.started) / 1000;
    if (stage.status !== "running" || this.session?.status === "waiting_for_selection") return { elapsed, eta: null };
    const expected = this.expectedSeconds()[stage.number] ?? null;
    return { elapsed, eta: stageEta(stage.samples, at, expected, elapsed, stage.progress) };
  }

  // ------------------------------------------------------------------ expected durations
  /** Take a GET /pipeline/estimates answer for the watched session. */
  applyEstimates(answer) {
    if (!answer || !this.session || answer.session_id !== this.sessionId) return outcome();
    this.estimates = answer;
    this.session.weighted = 0; // weighed anew: the stage-count guess before it does not hold
    return outcome({ changed: true });
  }

  /** The run's stage numbers: those selected, else those heard of. */
  runStages() {
    const s = this.session;
    if (!s) return [];
    return s.selected_stages.length ? s.selected_stages : Object.keys(s.stages).map(Number).sort((a, b) => a - b);
  }

  /** Each run stage's expected seconds on this machine (null where unknown). */
  expectedSeconds() {
    return expectedSeconds(this.runStages(), this.estimates);
  }

  /**
   * The run's overall progress (0-100, weighted by each stage's expected duration, never going
   * back) and seconds left (null when unknown, waiting for the user, or ended).
   */
  overall(now = Date.now()) {
    const s = this.session;
    if (!s) return { progress: 0, eta: null };
    const numbers = this.runStages();
    const stages = numbers.map((n) => {
      const st = this.stage(n);
      const took = st.started && st.finished ? (st.finished - st.started) / 1000 : null;
      return { number: n, status: st.status, progress: st.progress, took, eta: this.stageTiming(st, now).eta };
    });
    const measured = weightedProgress(stages, stageWeights(numbers, this.estimates));
    s.weighted = s.status === "completed" ? 100 : Math.max(s.weighted, measured);
    const active = s.status === "running" || s.status === "queued";
    return { progress: s.weighted, eta: active ? overallEta(stages, this.expectedSeconds()) : null };
  }

  /** The stage a resume would start from, or null. */
  resumeStage() {
    const s = this.session;
    if (!s) return null;
    if (s.failed_stage) return s.failed_stage;
    const selected = s.selected_stages.length ? s.selected_stages : Object.keys(s.stages).map(Number);
    return selected.find((n) => !["completed", "skipped"].includes(this.stage(n).status)) ?? null;
  }

  /** The selected stages that completed. */
  completedStages() {
    return this.session ? this.session.selected_stages.filter((n) => this.stage(n).status === "completed") : [];
  }

  /** The picker's address for a waiting run (only ever a path on this site). */
  pickerUrl() {
    const s = this.session;
    const given = typeof s.picker_url === "string" ? s.picker_url : "";
    return given.startsWith("/segments/") ? given : `/segments/episode/${encodeURIComponent(s.episode_id)}`;
  }

  /** The URL of one of the session's outputs (`final_video`, `final_srt`), or null. */
  outputUrl(key) {
    return this.session ? outputUrl(this.session.episode_id, this.session.outputs[key]) : null;
  }

  /** Once per session, when the run has ended: the session if this page saw it run, else null. */
  takeEnd() {
    const s = this.session;
    if (!s) return null;
    if (isActive(s.status)) this.sawActive = true;
    if (SESSION_RANK[s.status] !== 2 || !s.episode_id || this.endTaken) return null;
    this.endTaken = true;
    return this.sawActive ? s : null;
  }
}

function onProgress(store, p, now) {
  const s = store.session;
  const recheck = s.status === "waiting_for_selection"; // progress cannot tell "resumed" apart
  const at = store.stamp(p.timestamp, now);
  const stage = store.stage(p.stage);
  if ((STAGE_RANK[p.status] ?? 1) < (STAGE_RANK[stage.status] ?? 0)) return outcome({ recheck }); // stale
  const before = stage.status;
  stage.status = p.status;
  stage.progress = p.status === "completed" ? 100 : Math.max(stage.progress, Number(p.progress) || 0);
  if (p.sub_stage) stage.sub_stage = p.sub_stage;
  if (p.sub_stage_index !== null && p.sub_stage_index !== undefined) stage.sub_stage_index = p.sub_stage_index;
  if (p.message) stage.message = p.message;
  if (p.error) stage.error = p.error;
  if (p.status === "running" && !stage.started) stage.started = at;
  sampleProgress(stage, at);
  if (TERMINAL.has(p.status) && !stage.finished) stage.finished = at;
  s.episode_id = s.episode_id || p.episode_id;
  s.overall = Math.max(s.overall, Number(p.overall_progress) || 0);
  store.markRunning();
  if (p.status === "running") s.current_stage = p.stage;
  const ended = before !== p.status && TERMINAL.has(p.status);
  return outcome({ changed: true, recheck, estimates: ended && !store.estimates?.source_seconds,
    announce: ended ? `Stage ${p.stage}, ${p.stage_name}: ${STATUS_WORDS[p.status] || p.status}.` : null });
}

function onTransition(store, p, now) {
  const at = store.stamp(p.timestamp, now);
  const stage = store.stage(p.to_stage);
  if (STAGE_RANK[stage.status] < STAGE_RANK.running) {
    stage.status = "running";
    stage.started = stage.started || at;
  }
  store.session.current_stage = p.to_stage;
  store.markRunning();
  return outcome({ changed: true, announce: `Stage ${p.to_stage}, ${p.to_stage_name}, started.` });
}

function onError(store, p, now) {
  const stage = store.stage(p.stage);
  stage.status = "failed";
  stage.error = p.error;
  stage.finished = stage.finished || store.stamp(p.timestamp, now);
  store.session.failed_stage = p.stage;
  store.session.error = p.error;
  return outcome({ changed: true, announce: `Stage ${p.stage}, ${p.stage_name}, failed: ${p.error}` });
}

function onWaiting(store, p) {
  const s = store.session;
  s.status = "waiting_for_selection";
  s.episode_id = s.episode_id || p.episode_id;
  s.picker_url = p.picker_url;
  if (p.stage && p.reason) store.stage(p.stage).message = p.reason;
  return outcome({ changed: true, announce: "The run is waiting for your segment selection." });
}

function onCompletion(store, p, now) {
  const s = store.session;
  s.status = p.status;
  s.episode_id = s.episode_id || p.episode_id;
  s.finished = store.stamp(p.timestamp, now);
  s.failed_stage = p.failed_stage ?? s.failed_stage;
  s.error = p.error ?? s.error;
  Object.assign(s.outputs, p.outputs || {});
  if (p.status === "completed") s.overall = 100;
  // The final word on every stage (interrupted ones too) comes with a fresh snapshot.
  return outcome({ changed: true, requests: store.countRequest() });
}

/** The deltas a run sends over Socket.IO, by event name. */
const EVENT_HANDLERS = {
  pipeline_progress: onProgress,
  pipeline_transition: onTransition,
  pipeline_error: onError,
  pipeline_waiting: onWaiting,
  pipeline_completion: onCompletion,
};

/** The names of the delta events the store applies. */
export const EVENT_NAMES = Object.keys(EVENT_HANDLERS);
