// Small pieces several pages show: stage chips, status badges, session rows, confirm and form
// dialogs, drop targets.
import { el, fieldError, say } from "./dom.js";
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

/** "1 segment" / "3 segments". */
export function plural(count, word, many = `${word}s`) {
  return `${count} ${count === 1 ? word : many}`;
}

/** A coloured badge for a segment's severity (CRITICAL, HIGH, MEDIUM, LOW). */
export function severityBadge(severity) {
  const value = String(severity || "").toUpperCase();
  return el("span", { class: "badge severity", dataset: { severity: value }, text: value || "—" });
}

let formDialogCount = 0;

/**
 * Ask for a few values in a modal <dialog>. `fields` are {name, label, value?, hint?,
 * multiline?, type?}. `submit(values)` does the work; when it throws (an ApiError), its message
 * is shown on the field its `field` names, else under the form, and the dialog stays open.
 * Resolves with what `submit` returned (true when nothing), or null when cancelled.
 */
export function formDialog({ title, message = "", fields = [], submitText = "Save", submit }) {
  const id = `form-dialog-${++formDialogCount}`;
  const opener = document.activeElement;
  const rows = fields.map((field) => {
    const inputId = `${id}-${field.name}`;
    const common = { id: inputId, name: field.name, value: field.value ?? "",
      attrs: { "aria-describedby": `${inputId}-error`, autocomplete: "off" } };
    const input = field.multiline ? el("textarea", { ...common, rows: 3 })
      : el("input", { ...common, type: field.type || "text" });
    const error = el("p", { id: `${inputId}-error`, class: "field-error", hidden: true, attrs: { role: "alert" } });
    const node = el("div", { class: "field" },
      el("label", { attrs: { for: inputId }, text: field.label }), input,
      field.hint ? el("p", { class: "muted small", text: field.hint }) : null, error);
    return { field, input, error, node };
  });
  const general = el("p", { class: "field-error", hidden: true, attrs: { role: "alert" } });
  const submitButton = el("button", { type: "submit", class: "btn btn-primary", text: submitText });
  const cancelButton = el("button", { type: "button", class: "btn", text: "Cancel" });
  const form = el("form", { class: "stack", noValidate: true },
    el("h2", { id: `${id}-title`, text: title }),
    message ? el("p", { text: message }) : null,
    rows.map((row) => row.node), general,
    el("div", { class: "actions" }, cancelButton, submitButton));
  const dialog = el("dialog", { class: "dialog form-dialog", attrs: { "aria-labelledby": `${id}-title` } }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    let outcome = null;
    cancelButton.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(outcome ? outcome.value : null);
    }, { once: true });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      for (const row of rows) fieldError(row.input, row.error, "");
      say(general, "");
      const values = Object.fromEntries(rows.map((row) => [row.field.name, row.input.value.trim()]));
      submitButton.disabled = true;
      try {
        const value = await submit(values);
        outcome = { value: value === undefined || value === null ? true : value };
        dialog.close();
      } catch (error) {
        const row = rows.find((r) => r.field.name === error.field);
        if (row) {
          fieldError(row.input, row.error, error.message);
          row.input.focus();
        } else {
          say(general, error.message);
        }
      } finally {
        submitButton.disabled = false;
      }
    });
    dialog.showModal();
    (rows[0]?.input || submitButton).focus();
  });
}

/** Make `zone` accept dropped files: highlighted while dragged over, `onFiles(files)` on drop. */
export function dropTarget(zone, onFiles) {
  const over = (event) => {
    event.preventDefault();
    zone.classList.add("is-over");
  };
  zone.addEventListener("dragenter", over);
  zone.addEventListener("dragover", over);
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(event.relatedTarget)) zone.classList.remove("is-over");
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("is-over");
    const files = [...(event.dataTransfer?.files || [])];
    if (files.length) onFiles(files);
  });
}
