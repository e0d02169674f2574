// A log console: level filter, text search, pause/resume auto-scroll, a bounded number of
// lines in the DOM (older ones come back with "load earlier"), batched in animation frames.
import { debounce, el, frameBatcher } from "./dom.js";
import { timeOfDay } from "./format.js";

const LEVELS = [
  ["", "All levels"],
  ["INFO", "Info and above"],
  ["WARNING", "Warnings and errors"],
  ["ERROR", "Errors only"],
];
const EARLIER_BATCH = 500;
const BOTTOM_SLACK = 24; // px: "at the bottom" tolerance

let consoleCount = 0;

export class LogConsole {
  /**
   * @param {HTMLElement} root where the console is built
   * @param {{maxLines?: number, fetchEarlier?: (beforeSeq: number, limit: number) => Promise<object[]>,
   *          label?: string}} options
   */
  constructor(root, { maxLines = 2000, fetchEarlier = null, label = "Run log" } = {}) {
    this.maxLines = maxLines;
    this.fetchEarlier = fetchEarlier;
    this.queue = [];
    this.held = [];
    this.heldOverflow = false;
    this.paused = null; // null | "user" | "scroll"
    this.search = "";
    this.render = frameBatcher(() => this.flush());
    const id = `log-${++consoleCount}`;

    this.levelSelect = el("select", { id: `${id}-level` },
      LEVELS.map(([value, text]) => el("option", { value, text })));
    this.searchInput = el("input", {
      id: `${id}-search`, type: "search", placeholder: "Filter lines", autocomplete: "off",
    });
    this.pauseButton = el("button", {
      type: "button", class: "btn btn-small", text: "Pause auto-scroll", attrs: { "aria-pressed": "false" },
    });
    this.countText = el("span", { class: "log-count muted" });
    this.earlierButton = el("button", {
      type: "button", class: "btn btn-small log-earlier", text: `Load ${EARLIER_BATCH} earlier lines`, hidden: true,
    });
    this.earlierError = el("span", { class: "field-error", hidden: true, attrs: { role: "alert" } });
    this.lines = el("div", {
      class: "log-lines", tabIndex: 0,
      attrs: { role: "log", "aria-live": "off", "aria-label": label },
    });
    this.heldNote = el("p", { class: "log-held", hidden: true });
    this.resumeLink = el("button", { type: "button", class: "btn btn-small", text: "Resume" });

    root.classList.add("logbox");
    root.append(
      el("div", { class: "log-toolbar" },
        el("label", { attrs: { for: this.levelSelect.id } }, "Level ", this.levelSelect),
        el("label", { attrs: { for: this.searchInput.id } }, "Search ", this.searchInput),
        this.pauseButton,
        this.countText),
      el("div", { class: "log-earlier-row" }, this.earlierButton, this.earlierError),
      this.lines,
      el("div", { class: "log-held-row" }, this.heldNote, this.resumeLink),
    );
    this.resumeLink.hidden = true;

    this.levelSelect.addEventListener("change", () => {
      this.lines.dataset.minLevel = this.levelSelect.value;
      this.updateCount();
    });
    this.searchInput.addEventListener("input", debounce(() => this.applySearch(), 150));
    this.pauseButton.addEventListener("click", () => (this.paused ? this.resume() : this.pause("user")));
    this.resumeLink.addEventListener("click", () => this.resume());
    this.earlierButton.addEventListener("click", () => this.loadEarlier());
    this.lines.addEventListener("scroll", () => this.onScroll(), { passive: true });
    this.updateCount();
  }

  /** The seq of the oldest line shown, or null. */
  get firstSeq() {
    const first = this.lines.firstElementChild;
    return first ? Number(first.dataset.seq) : null;
  }

  /** Forget every line. */
  reset() {
    this.queue = [];
    this.held = [];
    this.heldOverflow = false;
    this.lines.replaceChildren();
    this.paused = null;
    this.syncPauseUi();
    this.updateCount();
  }

  /** Add records (oldest first, each newer than all before); they appear on the next frame. */
  push(records) {
    if (!records.length) return;
    if (this.paused) {
      this.held.push(...records);
      if (this.held.length > this.maxLines) {
        this.held.splice(0, this.held.length - this.maxLines);
        this.heldOverflow = true;
      }
      this.syncPauseUi();
      return;
    }
    this.queue.push(...records);
    this.render();
  }

  /** Stop following new lines (they are held until resume). */
  pause(reason = "user") {
    if (this.paused) return;
    this.paused = reason;
    this.syncPauseUi();
  }

  /** Follow new lines again: show what was held and scroll to the end. */
  resume() {
    if (!this.paused) return;
    this.paused = null;
    if (this.heldOverflow) this.lines.replaceChildren();
    this.queue.push(...this.held);
    this.held = [];
    this.heldOverflow = false;
    this.syncPauseUi();
    this.flush();
  }

  flush() {
    if (this.paused) return;
    let records = this.queue;
    this.queue = [];
    if (records.length > this.maxLines) {
      records = records.slice(records.length - this.maxLines);
      this.lines.replaceChildren();
    }
    if (records.length) {
      const fragment = document.createDocumentFragment();
      for (const record of records) fragment.append(this.lineFor(record));
      this.lines.append(fragment);
      let excess = this.lines.childElementCount - this.maxLines;
      while (excess-- > 0) this.lines.firstElementChild.remove();
    }
    this.lines.scrollTop = this.lines.scrollHeight;
    this.updateCount();
  }

  lineFor(record) {
    const level = String(record.level || "INFO").toUpperCase();
    const line = el("div", { class: "log-line", dataset: { seq: String(record.seq), level } },
      el("span", { class: "log-seq", text: record.seq }),
      el("time", { class: "log-time", text: timeOfDay(record.timestamp), attrs: { datetime: record.timestamp } }),
      el("span", { class: "log-level", text: level }),
      el("span", { class: "log-stage", text: record.stage ? `S${record.stage}` : "" }),
      el("span", { class: "log-msg", text: record.message ?? "" }));
    if (this.search) line.hidden = !this.matches(line);
    return line;
  }

  matches(line) {
    return line.textContent.toLowerCase().includes(this.search);
  }

  applySearch() {
    this.search = this.searchInput.value.trim().toLowerCase();
    for (const line of this.lines.children) line.hidden = this.search ? !this.matches(line) : false;
    this.updateCount();
  }

  onScroll() {
    const box = this.lines;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight <= BOTTOM_SLACK;
    if (!atBottom && !this.paused) this.pause("scroll");
    else if (atBottom && this.paused === "scroll" && !this.heldOverflow) this.resume();
  }

  async loadEarlier() {
    const first = this.firstSeq;
    if (!this.fetchEarlier || !first || first <= 1) return;
    this.earlierButton.disabled = true;
    this.earlierError.hidden = true;
    try {
      const records = await this.fetchEarlier(first, EARLIER_BATCH);
      const older = records.filter((r) => r.seq < first);
      if (!this.paused) this.pause("user");
      const box = this.lines;
      const before = box.scrollHeight;
      const fragment = document.createDocumentFragment();
      for (const record of older) fragment.append(this.lineFor(record));
      box.prepend(fragment);
      box.scrollTop += box.scrollHeight - before;
    } catch (error) {
      this.earlierError.textContent = `Could not load earlier lines: ${error.message}`;
      this.earlierError.hidden = false;
    } finally {
      this.earlierButton.disabled = false;
      this.updateCount();
    }
  }

  syncPauseUi() {
    const paused = Boolean(this.paused);
    this.pauseButton.textContent = paused ? "Resume auto-scroll" : "Pause auto-scroll";
    this.pauseButton.setAttribute("aria-pressed", String(paused));
    const held = this.held.length;
    this.heldNote.hidden = !paused || !held;
    this.resumeLink.hidden = this.heldNote.hidden;
    this.heldNote.textContent = held
      ? `${this.heldOverflow ? "Over " : ""}${held} new line${held === 1 ? "" : "s"} while paused.`
      : "";
  }

  updateCount() {
    const total = this.lines.childElementCount;
    const first = this.firstSeq;
    this.earlierButton.hidden = !(this.fetchEarlier && first && first > 1);
    let shown = total;
    if (this.search || this.levelSelect.value) {
      shown = 0;
      for (const line of this.lines.children) if (!line.hidden && this.visibleByLevel(line)) shown += 1;
    }
    this.countText.textContent = shown === total
      ? `${total} line${total === 1 ? "" : "s"}`
      : `${shown} of ${total} lines`;
  }

  visibleByLevel(line) {
    const order = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
    const min = this.levelSelect.value;
    return !min || order.indexOf(line.dataset.level) >= order.indexOf(min);
  }
}
