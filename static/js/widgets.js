// Small pieces several pages show: stage chips, status badges, session rows, confirm dialogs.
import { el } from "./dom.js";
import * as fmt from "./format.js";

const CHIP_WORDS = { complete: "complete", missing: "not made yet", running: "running", failed: "failed" };
const CHIP_MARKS = { complete: "✓", missing: "", running: "…", failed: "✗" };
const STATUS_WORDS = {
  queued: "queued", running: "running", waiting_for_selection: "waiting for selection",
  completed: "completed", failed: "failed", interrupted: "interrupted",
};

/** The seven stage chips of an episode: `states` is {"1": complete|missing|running|failed}. */
export function stageChips(stages, states) {
  return el("ul", { class: "chips", attrs: { "aria-label": "Stages" } },
    stages.map((stage) => {
      const state = states?.[String(stage.number)] || "missing";
      return el("li", {
        class: "chip", dataset: { state }, title: `Stage ${stage.number}, ${stage.name}: ${CHIP_WORDS[state] || state}`,
      },
      el("span", { class: "chip-num", text: stage.number, attrs: { "aria-hidden": "true" } }),
      el("span", { class: "chip-mark", text: CHIP_MARKS[state] || "", attrs: { "aria-hidden": "true" } }),
      el("span", { class: "visually-hidden", text: `Stage ${stage.number} ${stage.name}: ${CHIP_WORDS[state] || state}` }));
    }));
}

/** A coloured badge for a session status. */
export function statusBadge(status) {
  return el("span", { class: "badge", dataset: { status: status || "unknown" }, text: STATUS_WORDS[status] || status || "—" });
}

/** How long a session took (or has been running). */
export function sessionDuration(session) {
  const seconds = fmt.secondsBetween(session.started_at || session.created_at, session.finished_at);
  return seconds === null ? "—" : fmt.duration(seconds);
}

/** "1–3, 5" for a list of stage numbers. */
export function stageList(numbers) {
  const sorted = [...new Set((numbers || []).map(Number))].sort((a, b) => a - b);
  const parts = [];
  for (let i = 0; i < sorted.length; i += 1) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j += 1;
    parts.push(j - i >= 2 ? `${sorted[i]}–${sorted[j]}` : sorted.slice(i, j + 1).join(", "));
    i = j;
  }
  return parts.join(", ") || "—";
}

/**
 * Ask a yes/no question in a modal <dialog>; resolves true when confirmed.
 * The dialog is built once and reused; Escape and "Cancel" answer no.
 */
export function confirmDialog({ title, message, confirmText = "Confirm", danger = false }) {
  let dialog = document.getElementById("confirm-dialog");
  if (!dialog) {
    dialog = el("dialog", { id: "confirm-dialog", class: "dialog", attrs: { "aria-labelledby": "confirm-title" } },
      el("form", { method: "dialog" },
        el("h2", { id: "confirm-title" }),
        el("p", { class: "confirm-message" }),
        el("div", { class: "actions" },
          el("button", { value: "cancel", class: "btn", text: "Cancel" }),
          el("button", { value: "confirm", class: "btn confirm-button" }))));
    document.body.append(dialog);
  }
  dialog.querySelector("#confirm-title").textContent = title;
  dialog.querySelector(".confirm-message").textContent = message;
  const button = dialog.querySelector(".confirm-button");
  button.textContent = confirmText;
  button.className = `btn confirm-button ${danger ? "btn-danger" : "btn-primary"}`;
  dialog.returnValue = "cancel";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
    dialog.querySelector('button[value="cancel"]').focus();
  });
}
