// PipelineMonitor: the live view of one run (stage cards, overall progress, log, error and
// completion panels). Every page that shows a run uses it; the socket comes from socket.js.
import { getJSON, isActive, loadStages, outputUrl, postJSON } from "./api.js";
import { announce, debounce, el, frameBatcher, say } from "./dom.js";
import * as fmt from "./format.js";
import { LogConsole } from "./logconsole.js";
import { CONNECTION_WORDS, emit, isConnected, on, onConnect, onConnectionState } from "./socket.js";

const SESSION_RANK = { queued: 0, running: 1, waiting_for_selection: 1, completed: 2, failed: 2, interrupted: 2 };
const STAGE_RANK = { pending: 0, running: 1, completed: 2, failed: 2, skipped: 2, interrupted: 2 };
const TERMINAL = new Set(["completed", "failed", "skipped", "interrupted"]);
const WORDS = {
  idle: "No run in progress",
  queued: "Queued",
  running: "Running",
  waiting_for_selection: "Waiting for your segment selection",
  completed: "Completed",
  failed: "Failed",
  interrupted: "Interrupted",
  pending: "Waiting",
  skipped: "Skipped",
  "not-selected": "Not in this run",
  missing: "Session not found",
};
// A pipeline_state batch this long may have more behind it: ask again until a short one.
const STATE_PAGE = 1000;
const STATE_TIMEOUT_MS = 6000;
// How many times a hole in the log is asked for before the lines after it are shown anyway.
const GAP_TRIES = 3;

function freshStage() {
  return { status: "pending", progress: 0, sub_stage: null, sub_stage_index: null, message: null,
    error: null, eta: null, started: null, finished: null };
}

/** Build a monitor in `root` once the stage list is known. */
export async function createMonitor(root, options = {}) {
  const stages = await loadStages();
  return new PipelineMonitor(root, stages, options);
}

export class PipelineMonitor {
  /**
   * @param {HTMLElement} root
   * @param {object[]} stages from GET /pipeline/stages
   * @param {{follow?: boolean, onSession?: Function, onFinish?: Function, pickerLink?: boolean}} options
   *   follow: with no session, show the running one (and any run that starts later).
   *   pickerLink: a waiting run links to the segment picker (false on the picker itself).
   */
  constructor(root, stages, { follow = false, onSession = () => {}, onFinish = () => {}, pickerLink = true } = {}) {
    this.root = root;
    this.stages = stages;
    this.follow = follow;
    this.onSession = onSession;
    this.onFinish = onFinish;
    this.pickerLink = pickerLink;
    this.sessionId = null;
    this.session = null;
    this.lastSeq = 0;
    this.awaiting = 0;
    this.awaitTimer = null;
    this.pendingLive = [];
    this.gapTries = 0;
    this.skew = 0;
    this.finishedNotified = false;
    this.baseTitle = document.title;
    this.render = frameBatcher(() => this.draw());
    // While waiting, progress events cannot tell "still waiting" from "resumed": ask the server.
    this.recheckWaiting = debounce(() => this.requestState(), 300);
    this.build();
    this.listen();
  }

  // ------------------------------------------------------------------ building
  build() {
    const root = this.root;
    root.classList.add("monitor");
    this.statusText = el("p", { class: "run-status", dataset: { status: "idle" }, text: WORDS.idle });
    this.sessionLabel = el("span", { class: "muted session-label" });
    this.connection = el("span", { class: "connection", dataset: { state: "connecting" } });
    this.overallBar = el("progress", { max: 100, value: 0, attrs: { "aria-label": "Overall progress" } });
    this.overallText = el("span", { class: "overall-text", text: "0%" });
    this.elapsedText = el("span", { class: "muted overall-elapsed" });
    this.interruptButton = el("button", { type: "button", class: "btn btn-danger", text: "Interrupt", disabled: true });
    this.notifyButton = el("button", { type: "button", class: "btn", text: "Notify me when it ends", hidden: true });
    this.actionMessage = el("p", { class: "action-message", hidden: true, attrs: { role: "status" } });

    this.cards = new Map();
    const grid = el("div", { class: "stage-grid" });
    for (const stage of this.stages) {
      const card = this.buildCard(stage);
      this.cards.set(stage.number, card);
      grid.append(card.root);
    }

    this.waitingPanel = el("section", { class: "panel notice-panel", hidden: true });
    this.errorPanel = el("section", { class: "panel error-panel", hidden: true, attrs: { "aria-labelledby": "run-error-title" } });
    this.errorTitle = el("h3", { id: "run-error-title" });
    this.errorText = el("p", { class: "error-text" });
    this.resumeButton = el("button", { type: "button", class: "btn btn-primary" });
    this.resumeMessage = el("p", { class: "field-error", hidden: true, attrs: { role: "alert" } });
    this.errorPanel.append(this.errorTitle, this.errorText,
      el("div", { class: "actions" }, this.resumeButton), this.resumeMessage);

    this.donePanel = el("section", { class: "panel done-panel", hidden: true, attrs: { "aria-labelledby": "run-done-title" } });
    this.doneTitle = el("h3", { id: "run-done-title", text: "Your video is ready" });
    this.video = el("video", { controls: true, preload: "metadata", class: "final-video", attrs: { playsinline: true } });
    this.downloads = el("ul", { class: "link-list" });
    this.donePanel.append(this.doneTitle, el("div", { class: "video-frame" }, this.video), this.downloads);

    const logRoot = el("section", { class: "monitor-log", attrs: { "aria-label": "Run log" } });
    this.log = new LogConsole(logRoot, {
      fetchEarlier: (before, limit) => this.fetchEarlier(before, limit),
    });

    root.append(
      el("div", { class: "monitor-head" },
        el("div", { class: "monitor-title" },
          el("h2", { text: "Run" }), this.sessionLabel, this.connection),
        this.statusText,
        el("div", { class: "overall" },
          el("span", { class: "overall-label", text: "Overall" }), this.overallBar, this.overallText, this.elapsedText),
        el("div", { class: "actions" }, this.interruptButton, this.notifyButton),
        this.actionMessage),
      grid, this.waitingPanel, this.errorPanel, this.donePanel,
      el("h3", { class: "log-title", text: "Log" }), logRoot,
    );

    this.interruptButton.addEventListener("click", () => this.interrupt());
    this.resumeButton.addEventListener("click", () => this.resume());
    this.notifyButton.addEventListener("click", () => this.askNotifications());
    this.syncNotifyButton();
  }

  buildCard(stage) {
    const status = el("span", { class: "stage-status", text: WORDS["not-selected"] });
    const subs = el("ol", { class: "substages", attrs: { "aria-label": `${stage.name} steps` } },
      stage.sub_stages.map((name) => el("li", { text: name })));
    const bar = el("progress", { max: 100, value: 0, attrs: { "aria-label": `${stage.name} progress` } });
    const meta = el("p", { class: "stage-meta" });
    const message = el("p", { class: "stage-message" });
    const root = el("article", { class: "stage-card", dataset: { status: "not-selected", stage: String(stage.number) } },
      el("header", { class: "stage-head" },
        el("span", { class: "stage-number", text: stage.number, attrs: { "aria-hidden": "true" } }),
        el("h3", { class: "stage-name", text: stage.name, title: stage.name })),
      el("p", { class: "stage-desc", text: stage.description, title: stage.description }),
      subs,
      el("div", { class: "stage-bar-row" }, bar, status),
      meta, message);
    return { root, status, subs, bar, meta, message, stage };
  }

  // ------------------------------------------------------------------ socket
  listen() {
    on("pipeline_progress", (p) => this.onProgress(p));
    on("pipeline_transition", (p) => this.onTransition(p));
    on("pipeline_error", (p) => this.onError(p));
    on("pipeline_completion", (p) => this.onCompletion(p));
    on("pipeline_waiting", (p) => this.onWaiting(p));
    on("log_stream", (r) => this.onLog(r));
    on("pipeline_state", (s) => this.onState(s));
    onConnectionState((state) => {
      this.connection.dataset.state = state;
      this.connection.textContent = CONNECTION_WORDS[state] || state;
      if (state === "reconnecting") announce("Connection to the server lost; reconnecting.");
    });
    onConnect(() => {
      // Every (re)connect: ask for what we missed since the last line we hold.
      this.awaiting = 0;
      this.requestState();
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) document.title = this.baseTitle;
      else this.render();
    });
    setInterval(() => {
      if (this.session && isActive(this.session.status)) this.render();
    }, 1000);
  }

  /** Show one session (by id); null shows the running one when following. */
  watch(sessionId) {
    this.sessionId = sessionId || null;
    this.session = sessionId ? this.emptySession(sessionId) : null;
    this.lastSeq = 0;
    this.pendingLive = [];
    this.awaiting = 0;
    this.finishedNotified = false;
    this.sawActive = false;
    this.log.reset();
    say(this.actionMessage, "");
    say(this.resumeMessage, "");
    this.video.removeAttribute("src");
    delete this.donePanel.dataset.key;
    this.render();
    this.requestState();
    if (sessionId) this.onSession(sessionId);
  }

  emptySession(id) {
    return { session_id: id, episode_id: null, status: "queued", selected_stages: [], stages: {},
      overall: 0, outputs: {}, error: null, started: null, finished: null, current_stage: null,
      failed_stage: null };
  }

  requestState() {
    if (!isConnected()) return; // onConnect asks when the connection is back
    this.awaiting += 1;
    const payload = this.sessionId ? { session_id: this.sessionId, after_seq: this.lastSeq } : {};
    emit("request_state", payload);
    clearTimeout(this.awaitTimer);
    this.awaitTimer = setTimeout(() => {
      if (this.awaiting) this.resyncOverHttp();
    }, STATE_TIMEOUT_MS);
  }

  /** The socket did not answer in time: fetch the same snapshot and lines over HTTP. */
  async resyncOverHttp() {
    try {
      let id = this.sessionId;
      if (!id) {
        const running = await getJSON("/pipeline/status");
        id = running.session_id || null;
        if (!id) {
          this.awaiting = 0;
          this.render();
          return;
        }
      }
      const after = id === this.sessionId ? this.lastSeq : 0;
      const [session, body] = await Promise.all([
        getJSON(`/pipeline/status/${encodeURIComponent(id)}`),
        getJSON(`/pipeline/logs/${encodeURIComponent(id)}?after=${after}&limit=${STATE_PAGE * 5}`),
      ]);
      this.awaiting = 1; // onState counts this answer as the one awaited
      this.onState({ session, logs: body.logs || [] });
    } catch {
      this.awaiting = 0;
      clearTimeout(this.awaitTimer);
      this.awaitTimer = setTimeout(() => this.requestState(), STATE_TIMEOUT_MS);
    }
  }

  mine(payload) {
    if (!payload || !payload.session_id) return false;
    if (payload.session_id === this.sessionId) return true;
    // Following with nothing shown: adopt a run that starts now.
    if (this.follow && !this.sessionId) this.watch(payload.session_id);
    return false;
  }

  stamp(timestamp) {
    const ms = fmt.parseTime(timestamp);
    if (ms !== null) this.skew = Date.now() - ms;
    return ms ?? this.serverNow();
  }

  serverNow() {
    return Date.now() - this.skew;
  }

  stageState(number) {
    const key = String(number);
    if (!this.session.stages[key]) this.session.stages[key] = freshStage();
    return this.session.stages[key];
  }

  // ------------------------------------------------------------------ events
  onState({ session, logs } = {}) {
    this.awaiting = Math.max(0, this.awaiting - 1);
    if (!this.sessionId) {
      if (!session) {
        this.render();
        return;
      }
      this.watchFromState(session.session_id);
    } else if (!session || session.session_id !== this.sessionId) {
      if (!session && !this.awaiting) {
        this.session.status = "missing";
        this.render();
      }
      return;
    }
    this.mergeSnapshot(session);
    const list = Array.isArray(logs) ? logs : [];
    this.acceptLogs(list, false);
    if (!this.awaiting) {
      const live = this.pendingLive.sort((a, b) => a.seq - b.seq);
      this.pendingLive = [];
      this.acceptLogs(live, true);
    }
    if (list.length >= STATE_PAGE) this.requestState();
    this.render();
  }

  watchFromState(sessionId) {
    // The answer to "the running session": adopt it without asking again from seq 0.
    this.sessionId = sessionId;
    this.session = this.emptySession(sessionId);
    this.lastSeq = 0;
    this.finishedNotified = false;
    this.sawActive = false;
    this.log.reset();
    this.onSession(sessionId);
  }

  acceptLogs(records, live) {
    const accepted = [];
    for (const record of records) {
      if (record.seq <= this.lastSeq) continue; // already held: never doubled
      if (record.seq !== this.lastSeq + 1) {
        if (this.gapTries < GAP_TRIES) {
          // A hole: keep what came after it and ask the server to fill it.
          this.gapTries += 1;
          if (live) this.pendingLive.push(...records.filter((r) => r.seq >= record.seq));
          this.requestState();
          break;
        }
        // The server could not fill it after several tries: show what we have.
        this.gapTries = 0;
      } else {
        this.gapTries = 0;
      }
      this.lastSeq = record.seq;
      accepted.push(record);
    }
    this.log.push(accepted);
  }

  onLog(record) {
    if (!this.mine(record)) return;
    if (this.awaiting) {
      this.pendingLive.push(record);
      return;
    }
    this.acceptLogs([record], true);
  }

  onProgress(p) {
    if (!this.mine(p) || !this.session) return;
    if (this.session.status === "waiting_for_selection") this.recheckWaiting();
    const at = this.stamp(p.timestamp);
    const stage = this.stageState(p.stage);
    if ((STAGE_RANK[p.status] ?? 1) < (STAGE_RANK[stage.status] ?? 0)) return; // stale
    const before = stage.status;
    stage.status = p.status;
    stage.progress = p.status === "completed" ? 100 : Math.max(stage.progress, Number(p.progress) || 0);
    if (p.sub_stage) stage.sub_stage = p.sub_stage;
    if (p.sub_stage_index !== null && p.sub_stage_index !== undefined) stage.sub_stage_index = p.sub_stage_index;
    if (p.message) stage.message = p.message;
    if (p.error) stage.error = p.error;
    stage.eta = p.eta_seconds ?? null;
    if (p.status === "running" && !stage.started) stage.started = at;
    if (TERMINAL.has(p.status) && !stage.finished) stage.finished = at;
    this.session.episode_id = this.session.episode_id || p.episode_id;
    this.session.overall = Math.max(this.session.overall, Number(p.overall_progress) || 0);
    if (SESSION_RANK[this.session.status] < SESSION_RANK.running) this.session.status = "running";
    if (p.status === "running") this.session.current_stage = p.stage;
    if (before !== p.status && TERMINAL.has(p.status)) {
      announce(`Stage ${p.stage}, ${p.stage_name}: ${WORDS[p.status] || p.status}.`);
    }
    this.render();
  }

  onTransition(p) {
    if (!this.mine(p) || !this.session) return;
    const at = this.stamp(p.timestamp);
    const stage = this.stageState(p.to_stage);
    if (STAGE_RANK[stage.status] < STAGE_RANK.running) {
      stage.status = "running";
      stage.started = stage.started || at;
    }
    this.session.current_stage = p.to_stage;
    if (SESSION_RANK[this.session.status] < SESSION_RANK.running) this.session.status = "running";
    announce(`Stage ${p.to_stage}, ${p.to_stage_name}, started.`);
    this.render();
  }

  onError(p) {
    if (!this.mine(p) || !this.session) return;
    const stage = this.stageState(p.stage);
    stage.status = "failed";
    stage.error = p.error;
    stage.finished = stage.finished || this.stamp(p.timestamp);
    this.session.failed_stage = p.stage;
    this.session.error = p.error;
    announce(`Stage ${p.stage}, ${p.stage_name}, failed: ${p.error}`);
    this.render();
  }

  onWaiting(p) {
    if (!this.mine(p) || !this.session) return;
    const s = this.session;
    s.status = "waiting_for_selection";
    s.episode_id = s.episode_id || p.episode_id;
    s.picker_url = p.picker_url;
    if (p.stage && p.reason) this.stageState(p.stage).message = p.reason;
    announce("The run is waiting for your segment selection.");
    this.render();
  }

  onCompletion(p) {
    if (!this.mine(p) || !this.session) return;
    const s = this.session;
    s.status = p.status;
    s.episode_id = s.episode_id || p.episode_id;
    s.finished = this.stamp(p.timestamp);
    s.failed_stage = p.failed_stage ?? s.failed_stage;
    s.error = p.error ?? s.error;
    Object.assign(s.outputs, p.outputs || {});
    if (p.status === "completed") s.overall = 100;
    this.requestState(); // the final word on every stage (interrupted ones too)
    this.render();
  }

  mergeSnapshot(snap) {
    const s = this.session;
    s.episode_id = snap.episode_id;
    s.selected_stages = snap.selected_stages || s.selected_stages;
    if ((SESSION_RANK[snap.status] ?? 0) >= (SESSION_RANK[s.status] ?? 0)) s.status = snap.status;
    s.overall = Math.max(s.overall, Number(snap.overall_progress) || 0);
    if (snap.status === "completed") s.overall = 100;
    s.error = snap.error ?? s.error;
    s.current_stage = snap.current_stage ?? s.current_stage;
    s.started = fmt.parseTime(snap.started_at) ?? s.started;
    s.finished = fmt.parseTime(snap.finished_at) ?? s.finished;
    s.resumed_from = snap.resumed_from;
    for (const [key, value] of Object.entries(snap.outputs || {})) {
      if (!s.outputs[key] || !String(s.outputs[key]).startsWith("/")) s.outputs[key] = value;
    }
    for (const [key, snapStage] of Object.entries(snap.stages || {})) {
      const stage = this.stageState(key);
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
      stage.started = fmt.parseTime(snapStage.started_at) ?? stage.started;
      stage.finished = fmt.parseTime(snapStage.finished_at) ?? stage.finished;
      if (stage.status === "failed" && !s.failed_stage) s.failed_stage = Number(key);
    }
  }

  async fetchEarlier(before, limit) {
    const after = Math.max(0, before - 1 - limit);
    const count = Math.min(limit, before - 1);
    const body = await getJSON(`/pipeline/logs/${encodeURIComponent(this.sessionId)}?after=${after}&limit=${count}`);
    return body.logs || [];
  }

  // ------------------------------------------------------------------ actions
  async interrupt() {
    if (!this.sessionId) return;
    this.interruptButton.disabled = true;
    say(this.actionMessage, "Interrupting…", "info");
    try {
      const body = await postJSON(`/pipeline/interrupt/${encodeURIComponent(this.sessionId)}`);
      if (body.status === "interrupted") {
        say(this.actionMessage, "Interrupted: the run is stopping.", "info");
        announce("The run was interrupted.");
      } else {
        say(this.actionMessage, "The run was not running any more.", "info");
      }
      this.requestState();
    } catch (error) {
      say(this.actionMessage, `Could not interrupt: ${error.message}`);
      this.interruptButton.disabled = false;
    }
  }

  resumeStage() {
    const s = this.session;
    if (!s) return null;
    if (s.failed_stage) return s.failed_stage;
    const selected = s.selected_stages.length ? s.selected_stages : Object.keys(s.stages).map(Number);
    return selected.find((n) => this.stageState(n).status !== "completed" && this.stageState(n).status !== "skipped") ?? null;
  }

  async resume() {
    if (!this.sessionId) return;
    this.resumeButton.disabled = true;
    say(this.resumeMessage, "");
    try {
      const body = await postJSON(`/pipeline/resume/${encodeURIComponent(this.sessionId)}`);
      announce("Resuming the run.");
      this.watch(body.session_id);
    } catch (error) {
      say(this.resumeMessage, `Could not resume: ${error.message}`);
    } finally {
      this.resumeButton.disabled = false;
    }
  }

  syncNotifyButton() {
    const supported = "Notification" in window;
    this.notifyButton.hidden = !supported || Notification.permission !== "default"
      || !this.session || !isActive(this.session.status);
  }

  async askNotifications() {
    try {
      const answer = await Notification.requestPermission();
      say(this.actionMessage, answer === "granted"
        ? "You will get a notification when the run ends (while this tab is hidden)."
        : "Notifications are blocked for this site.", "info");
    } catch {
      say(this.actionMessage, "This browser cannot show notifications.", "info");
    }
    this.syncNotifyButton();
  }

  notifyEnd() {
    if (this.finishedNotified) return;
    this.finishedNotified = true;
    if (!this.sawActive) return; // a run that ended before this page saw it: nothing to tell
    const s = this.session;
    const words = s.status === "completed" ? "Your video is ready." : `The run ${s.status}.`;
    announce(`Run ${WORDS[s.status] || s.status}. ${s.status === "failed" && s.error ? s.error : ""}`);
    if (document.hidden && "Notification" in window && Notification.permission === "granted") {
      try {
        new Notification("Clipcast", { body: words, tag: `clipcast-${s.session_id}` });
      } catch {
        // Some browsers only allow notifications from a service worker; the title still says it.
      }
    }
    this.onFinish(s);
  }

  // ------------------------------------------------------------------ drawing
  draw() {
    const s = this.session;
    const status = s ? s.status : "idle";
    this.statusText.dataset.status = status;
    this.statusText.textContent = s && status === "running" && s.current_stage
      ? `Running stage ${s.current_stage} of ${this.stages.length}: ${this.stageName(s.current_stage)}`
      : WORDS[status] || status;
    this.sessionLabel.textContent = s ? `session ${fmt.shortId(s.session_id)}` : "";
    this.root.dataset.status = status;
    const overall = s ? s.overall : 0;
    this.overallBar.value = overall;
    this.overallText.textContent = fmt.percent(overall);
    const started = s?.started ?? this.firstStageStart();
    const elapsed = started ? ((s?.finished && !isActive(status) ? s.finished : this.serverNow()) - started) / 1000 : null;
    this.elapsedText.textContent = elapsed !== null ? `elapsed ${fmt.duration(elapsed)}` : "";
    const active = Boolean(s && isActive(status));
    if (active) this.sawActive = true;
    this.interruptButton.disabled = !active;
    this.syncNotifyButton();
    for (const [number, card] of this.cards) this.drawCard(card, number);
    this.drawPanels();
    this.drawTitle();
    if (s && SESSION_RANK[status] === 2 && s.episode_id) this.notifyEnd();
  }

  firstStageStart() {
    if (!this.session) return null;
    const starts = Object.values(this.session.stages).map((st) => st.started).filter(Boolean);
    return starts.length ? Math.min(...starts) : null;
  }

  stageName(number) {
    return this.stages.find((st) => st.number === Number(number))?.name ?? `Stage ${number}`;
  }

  drawCard(card, number) {
    const s = this.session;
    const selected = s && (s.selected_stages.includes(number) || s.stages[String(number)]);
    const st = selected ? this.stageState(number) : null;
    const status = !s ? "idle" : st ? st.status : "not-selected";
    card.root.dataset.status = status;
    card.status.textContent = status === "idle" ? "" : WORDS[status] || status;
    const progress = st ? st.progress : 0;
    card.bar.value = progress;
    card.bar.setAttribute("aria-valuetext", `${fmt.percent(progress)}${st?.sub_stage ? `, ${st.sub_stage}` : ""}`);
    const subIndex = st ? this.subStageIndex(card.stage, st) : -1;
    [...card.subs.children].forEach((li, i) => {
      const current = status === "running" && i === subIndex;
      li.classList.toggle("done", status === "completed" || (subIndex >= 0 && i < subIndex));
      if (current) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    });
    const parts = [];
    if (st && st.status !== "pending") {
      parts.push(fmt.percent(progress));
      if (st.started) {
        const end = TERMINAL.has(st.status) && st.finished ? st.finished : this.serverNow();
        parts.push(`elapsed ${fmt.duration((end - st.started) / 1000)}`);
        if (st.status === "running") {
          const eta = this.eta(st, (end - st.started) / 1000);
          if (eta !== null) parts.push(`about ${fmt.duration(eta)} left`);
        }
      }
    }
    card.meta.textContent = parts.join(" · ");
    const message = st?.status === "failed" || st?.status === "interrupted" ? st.error || st.message : st?.message;
    card.message.textContent = message || "";
    card.message.classList.toggle("is-error", st?.status === "failed");
  }

  subStageIndex(stage, st) {
    if (st.sub_stage) {
      const i = stage.sub_stages.indexOf(st.sub_stage);
      if (i >= 0) return i;
    }
    return Number.isInteger(st.sub_stage_index) ? st.sub_stage_index : -1;
  }

  eta(st, elapsed) {
    if (Number.isFinite(st.eta) && st.eta !== null) return Math.max(0, st.eta);
    if (st.progress < 2 || st.progress >= 100 || elapsed < 3) return null;
    return (elapsed * (100 - st.progress)) / st.progress;
  }

  drawPanels() {
    const s = this.session;
    const status = s?.status;
    // Waiting for the user's segment choice: a link to the picker (the event's picker_url).
    this.waitingPanel.hidden = status !== "waiting_for_selection" || !s.episode_id;
    const pickerUrl = this.waitingPanel.hidden ? null : this.pickerUrl(s);
    if (pickerUrl && this.waitingPanel.dataset.key !== pickerUrl) {
      this.waitingPanel.dataset.key = pickerUrl;
      this.waitingPanel.replaceChildren(
        el("h3", { text: "Choose the segments to use" }),
        el("p", { text: this.pickerLink
          ? "This run uses manual segment selection. Pick the segments and save them: the run then goes on by itself."
          : "This run uses manual segment selection. Save your selection on this page: the run then goes on by itself." }),
        this.pickerLink ? el("a", { class: "btn btn-primary picker-link", href: pickerUrl, text: "Open the segment picker" }) : null);
    }
    // Failed or interrupted: the reason and a way to resume.
    const broken = status === "failed" || status === "interrupted";
    this.errorPanel.hidden = !broken;
    if (broken) {
      const failed = s.failed_stage;
      this.errorTitle.textContent = status === "failed"
        ? `Stage ${failed ?? "?"}${failed ? `, ${this.stageName(failed)},` : ""} failed`
        : "The run was interrupted";
      const message = (failed && this.stageState(failed).error) || s.error;
      this.errorText.textContent = message || (status === "interrupted" ? "It stopped before finishing." : "No reason was given.");
      const from = this.resumeStage();
      this.resumeButton.hidden = !from;
      this.resumeButton.textContent = from ? `Resume from stage ${from}` : "Resume";
    }
    // Completed: the video and the downloads (or what was made, for a partial run).
    const finalUrl = s ? outputUrl(s.episode_id, s.outputs.final_video) : null;
    this.donePanel.hidden = !(status === "completed" && s.episode_id);
    if (this.donePanel.hidden) return;
    const key = `${s.session_id}|${finalUrl}`;
    if (this.donePanel.dataset.key === key) return;
    this.donePanel.dataset.key = key;
    const episodeLink = el("li", {}, el("a", {
      href: `/episodes/${encodeURIComponent(s.episode_id)}`, text: "Open the episode page" }));
    this.video.parentElement.hidden = !finalUrl;
    if (finalUrl) {
      this.doneTitle.textContent = "Your video is ready";
      this.video.src = finalUrl;
      const srt = outputUrl(s.episode_id, s.outputs.final_srt)
        || (finalUrl.endsWith("/final.mp4") ? finalUrl.replace(/final\.mp4$/, "final.srt") : null);
      this.downloads.replaceChildren(
        el("li", {}, el("a", { href: finalUrl, text: "Download the video (final.mp4)", attrs: { download: "final.mp4" } })),
        srt && el("li", {}, el("a", { href: srt, text: "Download the subtitles (final.srt)", attrs: { download: "final.srt" } })),
        episodeLink);
    } else {
      const done = s.selected_stages.filter((n) => this.stageState(n).status === "completed");
      this.doneTitle.textContent = done.length
        ? `Completed stage${done.length === 1 ? "" : "s"} ${done.join(", ")}`
        : "Run completed";
      this.downloads.replaceChildren(episodeLink);
    }
  }

  pickerUrl(s) {
    const given = typeof s.picker_url === "string" ? s.picker_url : "";
    // Only ever a path on this site (the event comes from our server, but stay strict).
    return given.startsWith("/segments/") ? given : `/segments/episode/${encodeURIComponent(s.episode_id)}`;
  }

  drawTitle() {
    if (!document.hidden || !this.session) return;
    const s = this.session;
    if (isActive(s.status)) {
      const stage = s.current_stage ? ` · ${this.stageName(s.current_stage)}` : "";
      document.title = `${fmt.percent(s.overall)}${stage} — Clipcast`;
    } else {
      document.title = `${s.status === "completed" ? "✓ Done" : `✗ ${WORDS[s.status] || s.status}`} — Clipcast`;
    }
  }
}
