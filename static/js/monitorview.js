// The monitor's DOM: stage cards, overall progress, the waiting, error and done panels and the
// page title, drawn from a SessionStore (sessionstore.js). It reads the store, never changes it.
import { isActive } from "./api.js";
import { el } from "./dom.js";
import * as fmt from "./format.js";
import { CONNECTION_WORDS } from "./socket.js";
import { queuedWords, STATUS_WORDS, subStageIndex } from "./sessionstore.js";

export class MonitorView {
  /**
   * @param {HTMLElement} root
   * @param {object[]} stages from GET /pipeline/stages
   * @param {{pickerLink?: boolean}} options pickerLink: a waiting run links to the picker.
   */
  constructor(root, stages, { pickerLink = true } = {}) {
    this.root = root;
    this.stages = stages;
    this.pickerLink = pickerLink;
    this.baseTitle = document.title;
    this.build();
  }

  build() {
    const root = this.root;
    root.classList.add("monitor");
    this.statusText = el("p", { class: "run-status", dataset: { status: "idle" }, text: STATUS_WORDS.idle });
    this.sessionLabel = el("span", { class: "muted session-label" });
    this.connection = el("span", { class: "connection", dataset: { state: "connecting" } });
    this.overallBar = el("progress", { max: 100, value: 0, attrs: { "aria-label": "Overall progress" } });
    this.overallText = el("span", { class: "overall-text", text: "0%" });
    this.elapsedText = el("span", { class: "muted overall-elapsed" });
    this.etaText = el("span", { class: "muted overall-eta" });
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

    this.logRoot = el("section", { class: "monitor-log", attrs: { "aria-label": "Run log" } });

    root.append(
      el("div", { class: "monitor-head" },
        el("div", { class: "monitor-title" },
          el("h2", { text: "Run" }), this.sessionLabel, this.connection),
        this.statusText,
        el("div", { class: "overall" },
          el("span", { class: "overall-label", text: "Overall" }), this.overallBar, this.overallText, this.elapsedText, this.etaText),
        el("div", { class: "actions" }, this.interruptButton, this.notifyButton),
        this.actionMessage),
      grid, this.waitingPanel, this.errorPanel, this.donePanel,
      el("h3", { class: "log-title", text: "Log" }), this.logRoot,
    );
  }

  buildCard(stage) {
    const status = el("span", { class: "stage-status", text: STATUS_WORDS["not-selected"] });
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

  /** Show the connection state (connecting | connected | reconnecting | offline). */
  showConnection(state) {
    this.connection.dataset.state = state;
    this.connection.textContent = CONNECTION_WORDS[state] || state;
  }

  /** Forget what was drawn for the previous session (its video and panels). */
  clearRun() {
    this.video.removeAttribute("src");
    delete this.donePanel.dataset.key;
  }

  stageName(number) {
    return this.stages.find((st) => st.number === Number(number))?.name ?? `Stage ${number}`;
  }

  /** Draw everything from `store` at `now` (ms). */
  draw(store, now = Date.now()) {
    const s = store.session;
    const status = store.status;
    this.statusText.dataset.status = status;
    this.statusText.textContent = s && status === "running" && s.current_stage
      ? `Running stage ${s.current_stage} of ${this.stages.length}: ${this.stageName(s.current_stage)}`
      : status === "queued" ? queuedWords(s?.queue_position)
      : STATUS_WORDS[status] || status;
    this.sessionLabel.textContent = s ? `session ${fmt.shortId(s.session_id)}` : "";
    this.root.dataset.status = status;
    const overall = store.overall(now);
    this.overallBar.value = overall.progress;
    this.overallText.textContent = fmt.percent(overall.progress);
    const elapsed = store.elapsedSeconds(now);
    this.elapsedText.textContent = elapsed !== null ? `elapsed ${fmt.duration(elapsed)}` : "";
    this.etaText.textContent = overall.eta !== null ? `about ${fmt.duration(overall.eta)} left`
      : status === "waiting_for_selection" ? "waiting for you" : "";
    this.interruptButton.disabled = !(s && isActive(status));
    this.syncNotifyButton(store);
    for (const [number, card] of this.cards) this.drawCard(card, number, store, now);
    this.drawWaiting(store);
    this.drawError(store);
    this.drawDone(store);
    this.drawTitle(store);
  }

  drawCard(card, number, store, now) {
    const st = store.isSelected(number) ? store.stage(number) : null;
    const status = !store.session ? "idle" : st ? st.status : "not-selected";
    card.root.dataset.status = status;
    card.status.textContent = status === "idle" ? "" : STATUS_WORDS[status] || status;
    const progress = st ? st.progress : 0;
    card.bar.value = progress;
    card.bar.setAttribute("aria-valuetext", `${fmt.percent(progress)}${st?.sub_stage ? `, ${st.sub_stage}` : ""}`);
    const subIndex = st ? subStageIndex(card.stage, st) : -1;
    [...card.subs.children].forEach((li, i) => {
      li.classList.toggle("done", status === "completed" || status === "skipped" || (subIndex >= 0 && i < subIndex));
      if (status === "running" && i === subIndex) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    });
    const parts = [];
    if (st && st.status !== "pending") {
      parts.push(fmt.percent(progress));
      const { elapsed, eta } = store.stageTiming(st, now);
      if (elapsed !== null) parts.push(`elapsed ${fmt.duration(elapsed)}`);
      if (eta !== null) parts.push(`about ${fmt.duration(eta)} left`);
    }
    card.meta.textContent = parts.join(" · ");
    const message = st?.status === "failed" || st?.status === "interrupted" ? st.error || st.message : st?.message;
    card.message.textContent = message || "";
    card.message.classList.toggle("is-error", st?.status === "failed");
    // Once the script is written (or reused), it can be reviewed and edited before rendering.
    const episodeId = store.session?.episode_id;
    if (number === 4 && episodeId && (status === "completed" || status === "skipped")) {
      card.message.append(card.message.textContent ? " " : "", el("a", {
        class: "script-link", href: `/episodes/${encodeURIComponent(episodeId)}/script`, text: "Review and edit the script" }));
    }
  }

  // Waiting for the user's segment choice: a link to the picker (the event's picker_url).
  drawWaiting(store) {
    const s = store.session;
    this.waitingPanel.hidden = store.status !== "waiting_for_selection" || !s.episode_id;
    const pickerUrl = this.waitingPanel.hidden ? null : store.pickerUrl();
    if (!pickerUrl || this.waitingPanel.dataset.key === pickerUrl) return;
    this.waitingPanel.dataset.key = pickerUrl;
    this.waitingPanel.replaceChildren(
      el("h3", { text: "Choose the segments to use" }),
      el("p", { text: this.pickerLink
        ? "This run uses manual segment selection. Pick the segments and save them: the run then goes on by itself."
        : "This run uses manual segment selection. Save your selection on this page: the run then goes on by itself." }),
      ...(this.pickerLink ? [el("a", { class: "btn btn-primary picker-link", href: pickerUrl, text: "Open the segment picker" })] : []));
  }

  // Failed or interrupted: the reason and a way to resume.
  drawError(store) {
    const status = store.status;
    const broken = status === "failed" || status === "interrupted";
    this.errorPanel.hidden = !broken;
    if (!broken) return;
    const s = store.session;
    const failed = s.failed_stage;
    this.errorTitle.textContent = status === "failed"
      ? `Stage ${failed ?? "?"}${failed ? `, ${this.stageName(failed)},` : ""} failed`
      : "The run was interrupted";
    const message = (failed && store.stage(failed).error) || s.error;
    this.errorText.textContent = message || (status === "interrupted" ? "It stopped before finishing." : "No reason was given.");
    const from = store.resumeStage();
    this.resumeButton.hidden = !from;
    this.resumeButton.textContent = from ? `Resume from stage ${from}` : "Resume";
  }

  // Completed: the video and the downloads (or what was made, for a partial run).
  drawDone(store) {
    const s = store.session;
    this.donePanel.hidden = !(store.status === "completed" && s.episode_id);
    if (this.donePanel.hidden) return;
    const finalUrl = store.outputUrl("final_video");
    const key = `${s.session_id}|${finalUrl}`;
    if (this.donePanel.dataset.key === key) return;
    this.donePanel.dataset.key = key;
    const episodeLink = el("li", {}, el("a", {
      href: `/episodes/${encodeURIComponent(s.episode_id)}`, text: "Open the episode page" }));
    this.video.parentElement.hidden = !finalUrl;
    if (finalUrl) {
      this.doneTitle.textContent = "Your video is ready";
      this.video.src = finalUrl;
      const srt = store.outputUrl("final_srt");
      // replaceChildren would write a null as the text "null": only nodes go in.
      this.downloads.replaceChildren(...[
        el("li", {}, el("a", { href: finalUrl, text: "Download the video (final.mp4)", attrs: { download: "final.mp4" } })),
        srt && el("li", {}, el("a", { href: srt, text: "Download the subtitles (final.srt)", attrs: { download: "final.srt" } })),
        episodeLink].filter(Boolean));
    } else {
      const done = store.completedStages();
      this.doneTitle.textContent = done.length
        ? `Completed stage${done.length === 1 ? "" : "s"} ${done.join(", ")}`
        : "Run completed";
      this.downloads.replaceChildren(episodeLink);
    }
  }

  /** The tab's title says the run's progress while the tab is hidden. */
  drawTitle(store) {
    const s = store.session;
    if (!document.hidden || !s) return;
    if (isActive(s.status)) {
      const stage = s.current_stage ? ` · ${this.stageName(s.current_stage)}` : "";
      document.title = `${fmt.percent(s.weighted)}${stage} — Clipcast`;
    } else {
      document.title = `${s.status === "completed" ? "✓ Done" : `✗ ${STATUS_WORDS[s.status] || s.status}`} — Clipcast`;
    }
  }

  /** Back to the page's own title (the tab is visible again). */
  restoreTitle() {
    document.title = this.baseTitle;
  }

  /** The notify button shows while a run is active and the browser could still ask. */
  syncNotifyButton(store) {
    const supported = "Notification" in window;
    this.notifyButton.hidden = !supported || Notification.permission !== "default"
      || !store.session || !isActive(store.session.status);
  }
}
