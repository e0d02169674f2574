// PipelineMonitor: the live view of one run. It wires three parts together: the session store
// (sessionstore.js: state, no DOM), the view that draws it (monitorview.js) and the commands
// sent to the server (runcommands.js). Every page that shows a run uses it.
import { isActive, loadStages } from "./api.js";
import { announce, debounce, frameBatcher, say } from "./dom.js";
import { LogConsole } from "./logconsole.js";
import { MonitorView } from "./monitorview.js";
import * as commands from "./runcommands.js";
import { EVENT_NAMES, SessionStore, STATUS_WORDS } from "./sessionstore.js";
import { isConnected, on, onConnect, onConnectionState } from "./socket.js";

const STATE_TIMEOUT_MS = 6000;
const QUEUE_POLL_MS = 3000; // a queued run's place in line changes without an event

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
    this.store = new SessionStore({ follow });
    this.view = new MonitorView(root, stages, { pickerLink });
    this.log = new LogConsole(this.view.logRoot, {
      fetchEarlier: (before, limit) => commands.fetchEarlier(this.sessionId, before, limit),
    });
    this.onSession = onSession;
    this.onFinish = onFinish;
    this.awaitTimer = null;
    this.interrupting = false; // an interrupt was asked for and the run has not stopped yet
    this.render = frameBatcher(() => this.draw());
    // While waiting, progress events cannot tell "still waiting" from "resumed": ask the server.
    this.recheckWaiting = debounce(() => this.requestState(), 300);
    this.view.interruptButton.addEventListener("click", () => this.interrupt());
    this.view.resumeButton.addEventListener("click", () => this.resume());
    this.view.notifyButton.addEventListener("click", () => this.askNotifications());
    this.view.syncNotifyButton(this.store);
    this.listen();
  }

  /** The id of the session shown, or null. */
  get sessionId() {
    return this.store.sessionId;
  }

  /** The state of the session shown (see sessionstore.js), or null. */
  get session() {
    return this.store.session;
  }

  listen() {
    for (const name of EVENT_NAMES) on(name, (p) => this.apply(this.store.applyEvent(name, p)));
    on("log_stream", (record) => this.apply(this.store.applyLog(record)));
    on("pipeline_state", (answer) => this.apply(this.store.applyState(answer)));
    onConnectionState((state) => {
      this.view.showConnection(state);
      if (state === "reconnecting") announce("Connection to the server lost; reconnecting.");
    });
    onConnect(() => {
      // Every (re)connect: ask for what we missed since the last line we hold.
      this.store.forgetRequests();
      this.requestState();
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.view.restoreTitle();
      else this.render();
    });
    setInterval(() => {
      if (this.session && isActive(this.session.status)) this.render();
    }, 1000);
    setInterval(() => {
      if (this.session?.status === "queued" && !this.store.awaiting) this.requestState();
    }, QUEUE_POLL_MS);
  }

  /** Do what the store says an applied payload asks for. */
  apply(out) {
    if (out.adopt) {
      this.watch(out.adopt);
      return;
    }
    if (out.started) {
      this.log.reset();
      this.onSession(out.started);
    }
    if (out.started || out.estimates) this.loadEstimates();
    this.log.push(out.lines);
    if (out.announce) announce(out.announce);
    if (out.recheck) this.recheckWaiting();
    for (let i = 0; i < out.requests; i += 1) this.sendRequest();
    if (out.changed) this.render();
  }

  /** Show one session (by id); null shows the running one when following. */
  watch(sessionId) {
    this.store.watch(sessionId);
    this.log.reset();
    say(this.view.actionMessage, "");
    say(this.view.resumeMessage, "");
    this.view.clearRun();
    this.interrupting = false;
    this.render();
    this.requestState();
    if (sessionId) {
      this.loadEstimates();
      this.onSession(sessionId);
    }
  }

  /** Fetch how long each stage is expected to take; without it the bar weighs stages alike. */
  async loadEstimates() {
    const sessionId = this.sessionId;
    if (!sessionId) return;
    try {
      this.apply(this.store.applyEstimates(await commands.fetchEstimates(sessionId)));
    } catch {
      // The monitor works without them: equal weights, ETAs measured from progress alone.
    }
  }

  requestState() {
    if (!isConnected()) return; // onConnect asks when the connection is back
    this.store.request();
    this.sendRequest();
  }

  // A request the store has counted: send it, and fall back to HTTP if no answer comes.
  sendRequest() {
    if (!isConnected()) return;
    commands.requestState(this.store.requestPayload());
    clearTimeout(this.awaitTimer);
    this.awaitTimer = setTimeout(() => {
      if (this.store.awaiting) this.resyncOverHttp();
    }, STATE_TIMEOUT_MS);
  }

  /** The socket did not answer in time: fetch the same snapshot and lines over HTTP. */
  async resyncOverHttp() {
    try {
      const answer = await commands.fetchState(this.sessionId, this.store.lastSeq);
      this.apply(this.store.applyState(answer, { settles: true }));
    } catch {
      this.store.forgetRequests();
      clearTimeout(this.awaitTimer);
      this.awaitTimer = setTimeout(() => this.requestState(), STATE_TIMEOUT_MS);
    }
  }

  draw() {
    this.view.draw(this.store);
    if (this.interrupting && !isActive(this.store.status)) {
      this.interrupting = false; // the run has stopped: the panel below says so
      say(this.view.actionMessage, "");
    }
    const ended = this.store.takeEnd();
    if (ended) this.notifyEnd(ended);
  }

  // ------------------------------------------------------------------ commands
  async interrupt() {
    if (!this.sessionId) return;
    const message = this.view.actionMessage;
    this.view.interruptButton.disabled = true;
    this.interrupting = true;
    say(message, "Interrupting…", "info");
    try {
      if (await commands.interruptRun(this.sessionId)) {
        if (this.interrupting) say(message, "Interrupted: the run is stopping.", "info");
        announce("The run was interrupted.");
      } else {
        this.interrupting = false;
        say(message, "The run was not running any more.", "info");
      }
      this.requestState();
    } catch (error) {
      this.interrupting = false;
      say(message, `Could not interrupt: ${error.message}`);
      this.view.interruptButton.disabled = false;
    }
  }

  async resume() {
    if (!this.sessionId) return;
    this.view.resumeButton.disabled = true;
    say(this.view.resumeMessage, "");
    try {
      const sessionId = await commands.resumeRun(this.sessionId);
      announce("Resuming the run.");
      this.watch(sessionId);
    } catch (error) {
      say(this.view.resumeMessage, `Could not resume: ${error.message}`);
    } finally {
      this.view.resumeButton.disabled = false;
    }
  }

  async askNotifications() {
    try {
      const answer = await Notification.requestPermission();
      say(this.view.actionMessage, answer === "granted"
        ? "You will get a notification when the run ends (while this tab is hidden)."
        : "Notifications are blocked for this site.", "info");
    } catch {
      say(this.view.actionMessage, "This browser cannot show notifications.", "info");
    }
    this.view.syncNotifyButton(this.store);
  }

  notifyEnd(s) {
    const words = s.status === "completed" ? "Your video is ready." : `The run ${s.status}.`;
    announce(`Run ${STATUS_WORDS[s.status] || s.status}. ${s.status === "failed" && s.error ? s.error : ""}`);
    if (document.hidden && "Notification" in window && Notification.permission === "granted") {
      try {
        new Notification("Clipcast", { body: words, tag: `clipcast-${s.session_id}` });
      } catch {
        // Some browsers only allow notifications from a service worker; the title still says it.
      }
    }
    this.onFinish(s);
  }
}
