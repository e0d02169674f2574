// The prompts page: read, create, edit, duplicate and delete analysis guidelines and narrative
// templates. Built-in ones are read-only; a refused save points at the line the server names.
import { del, getJSON, postJSON, putJSON } from "./api.js";
import { announce, byId, el, fieldError, frameBatcher, say } from "./dom.js";
import { confirmDialog, formDialog } from "./widgets.js";

const KINDS = { analysis: "analysis guideline", narrative: "narrative template" };
const form = byId("prompt-form");
const text = byId("prompt-content");
const gutter = byId("code-lines");
const nameInput = byId("prompt-name");

let current = null; // {kind, name, builtin, saved, mode: view|edit|create}
let errorLine = null;

const url = (kind, name) => `/prompts/api/prompts/${encodeURIComponent(kind)}${name ? `/${encodeURIComponent(name)}` : ""}`;

// ---------------------------------------------------------------------- list
function listItem(kind, item) {
  const name = typeof item === "string" ? item : item.name;
  const builtin = Boolean(item.builtin);
  return el("li", {},
    el("button", { type: "button", class: "prompt-item", dataset: { kind, name } },
      el("span", { class: "prompt-item-name", text: name }),
      el("span", { class: "badge", dataset: { status: builtin ? "system" : "custom" }, text: builtin ? "built in" : "yours" })));
}

async function loadList() {
  try {
    const body = await getJSON("/prompts/api/prompts");
    for (const kind of Object.keys(KINDS)) {
      byId(`${kind}-list`).replaceChildren(...(body[kind] || []).map((item) => listItem(kind, item)));
    }
    markCurrent();
    say(byId("prompts-error"), "");
  } catch (error) {
    say(byId("prompts-error"), `Could not list the prompts: ${error.message}`);
  }
}

function markCurrent() {
  for (const button of document.querySelectorAll(".prompt-item")) {
    const here = current && current.mode !== "create" && button.dataset.kind === current.kind && button.dataset.name === current.name;
    if (here) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

function rememberInUrl() {
  const address = new URL(window.location.href);
  if (current && current.mode !== "create") {
    address.searchParams.set("kind", current.kind);
    address.searchParams.set("name", current.name);
  } else {
    address.searchParams.delete("kind");
    address.searchParams.delete("name");
  }
  window.history.replaceState(null, "", address);
}

// ---------------------------------------------------------------------- the editor
function lineCount(value) {
  let count = 1;
  for (let i = value.indexOf("\n"); i !== -1; i = value.indexOf("\n", i + 1)) count += 1;
  return count;
}

const drawLines = frameBatcher(() => {
  const count = lineCount(text.value);
  let have = gutter.childElementCount;
  if (have < count) {
    const fragment = document.createDocumentFragment();
    for (let n = have + 1; n <= count; n += 1) fragment.append(el("span", { class: "code-line", dataset: { n: String(n) } }));
    gutter.append(fragment);
  }
  while (have > count) {
    gutter.lastElementChild.remove();
    have -= 1;
  }
  gutter.scrollTop = text.scrollTop;
});

function caretPosition() {
  const before = text.value.slice(0, text.selectionStart);
  const line = lineCount(before);
  const column = text.selectionStart - before.lastIndexOf("\n");
  byId("prompt-position").textContent = `Line ${line}, column ${column}`;
}

function clearErrorLine() {
  if (errorLine === null) return;
  gutter.children[errorLine - 1]?.classList.remove("is-error");
  errorLine = null;
}

function highlightLine(line) {
  clearErrorLine();
  const lines = text.value.split("\n");
  if (line < 1 || line > lines.length) return;
  drawLines();
  requestAnimationFrame(() => {
    gutter.children[line - 1]?.classList.add("is-error");
    errorLine = line;
    const start = lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
    text.focus();
    text.setSelectionRange(start, start + lines[line - 1].length);
    const height = parseFloat(getComputedStyle(text).lineHeight) || 20;
    text.scrollTop = Math.max(0, (line - 1) * height - text.clientHeight / 3);
    gutter.scrollTop = text.scrollTop;
    caretPosition();
  });
}

function dirty() {
  return Boolean(current) && !text.readOnly && text.value !== current.saved;
}

function drawDirty() {
  byId("prompt-revert").hidden = !dirty() || current.mode === "create";
}

function clearMessages() {
  clearErrorLine();
  fieldError(text, byId("prompt-content-error"), "");
  fieldError(nameInput, byId("prompt-name-error"), "");
  say(byId("prompt-status"), "");
}

function showPrompt(prompt, { mode = null, note = "" } = {}) {
  current = {
    kind: prompt.kind, name: prompt.name, builtin: Boolean(prompt.builtin), saved: prompt.content,
    mode: mode || (prompt.builtin ? "view" : "edit"),
  };
  const creating = current.mode === "create";
  clearMessages();
  byId("prompt-empty").hidden = true;
  form.hidden = false;
  byId("prompt-title").textContent = creating ? `New ${KINDS[current.kind]}` : current.name;
  const badge = byId("prompt-badge");
  badge.textContent = creating ? "new" : current.builtin ? "built in" : "yours";
  badge.dataset.status = current.builtin ? "system" : "custom";
  byId("prompt-name-field").hidden = !creating;
  nameInput.value = creating ? "" : current.name;
  byId("prompt-note").textContent = note || (current.builtin
    ? `A built-in ${KINDS[current.kind]}: read-only. Duplicate it to make your own version.`
    : `Your ${KINDS[current.kind]}. Saving checks it first; a problem is shown with its line.`);
  byId("prompt-content-label").textContent = current.kind === "analysis" ? "Guideline (TOML)" : "Template (Jinja)";
  text.value = prompt.content;
  text.readOnly = current.builtin;
  text.scrollTop = 0;
  text.scrollLeft = 0;
  byId("prompt-save").hidden = current.builtin;
  byId("prompt-save").textContent = creating ? "Create" : "Save";
  byId("prompt-duplicate").hidden = creating;
  byId("prompt-delete").hidden = creating || current.builtin;
  drawLines();
  drawDirty();
  markCurrent();
  rememberInUrl();
}

async function confirmDiscard() {
  if (!dirty()) return true;
  return confirmDialog({
    title: "Discard your changes?",
    message: `Your unsaved changes to ${current.mode === "create" ? "the new prompt" : `“${current.name}”`} will be lost.`,
    confirmText: "Discard changes",
    danger: true,
  });
}

async function openPrompt(kind, name, focus = true) {
  if (!(await confirmDiscard())) return;
  try {
    showPrompt(await getJSON(url(kind, name)));
    if (focus) byId("prompt-title").focus();
  } catch (error) {
    say(byId("prompts-error"), `Could not open ${name}: ${error.message}`);
  }
}

async function startNew(kind) {
  if (!(await confirmDiscard())) return;
  let content = "";
  try {
    content = (await getJSON(url(kind, "default"))).content;
  } catch {
    // No default to start from: an empty text.
  }
  showPrompt({ kind, name: "", builtin: false, content }, {
    mode: "create",
    note: `Starts as a copy of the built-in “default” ${KINDS[kind]}: change what you need, name it and create it.`,
  });
  current.saved = ""; // nothing is saved yet: leaving asks first
  drawDirty();
  nameInput.focus();
}

// ---------------------------------------------------------------------- actions
function showSaveError(error) {
  if (error.field === "name") {
    fieldError(nameInput, byId("prompt-name-error"), error.message);
    nameInput.focus();
    return;
  }
  const line = Number(error.body?.line) || null;
  fieldError(text, byId("prompt-content-error"), `Not saved: ${error.message}`);
  if (line) highlightLine(line);
  else text.focus();
}

async function save(event) {
  event.preventDefault();
  if (!current || current.builtin) return;
  clearMessages();
  const button = byId("prompt-save");
  button.disabled = true;
  try {
    const saved = current.mode === "create"
      ? await postJSON(url(current.kind), { name: nameInput.value.trim(), content: text.value })
      : await putJSON(url(current.kind, current.name), { content: text.value });
    const created = current.mode === "create";
    showPrompt(saved);
    await loadList();
    const words = created ? `Created “${saved.name}”.` : `Saved “${saved.name}”.`;
    say(byId("prompt-status"), words, "ok");
    announce(words);
  } catch (error) {
    showSaveError(error);
  } finally {
    button.disabled = false;
  }
}

async function duplicate() {
  if (!current) return;
  const source = current;
  const copy = await formDialog({
    title: `Duplicate “${source.name}”`,
    message: dirty() ? "The copy is made from the saved version, without your unsaved changes." : "",
    fields: [{ name: "name", label: "Name of the copy", value: `${source.name}_copy`, hint: "Letters, digits, - and _." }],
    submitText: "Duplicate",
    submit: (values) => postJSON(url(source.kind), { name: values.name, duplicate_of: source.name }),
  });
  if (!copy) return;
  current.saved = text.value; // the user chose to move on to the copy
  showPrompt(copy);
  await loadList();
  const words = `Duplicated “${source.name}” as “${copy.name}”: you can edit it now.`;
  say(byId("prompt-status"), words, "ok");
  announce(words);
  text.focus();
}

async function remove() {
  if (!current || current.builtin) return;
  const yes = await confirmDialog({
    title: "Delete this prompt?",
    message: `The ${KINDS[current.kind]} “${current.name}” will be deleted. Runs that used it keep their results.`,
    confirmText: "Delete",
    danger: true,
  });
  if (!yes) return;
  try {
    await del(url(current.kind, current.name));
    const words = `Deleted “${current.name}”.`;
    current = null;
    form.hidden = true;
    byId("prompt-empty").hidden = false;
    rememberInUrl();
    await loadList();
    announce(words);
    say(byId("prompts-error"), "");
    byId("prompts-error").hidden = true;
    byId("analysis-title").closest("nav").querySelector(".prompt-item")?.focus();
  } catch (error) {
    say(byId("prompt-status"), `Not deleted: ${error.message}`, "error");
  }
}

function revert() {
  if (!current) return;
  text.value = current.saved;
  clearMessages();
  drawLines();
  drawDirty();
  text.focus();
}

// ---------------------------------------------------------------------- wiring
async function main() {
  document.querySelector(".prompt-nav").addEventListener("click", (event) => {
    const item = event.target.closest(".prompt-item");
    if (item) openPrompt(item.dataset.kind, item.dataset.name);
    const fresh = event.target.closest("button[data-new]");
    if (fresh) startNew(fresh.dataset.new);
  });
  form.addEventListener("submit", save);
  text.addEventListener("input", () => {
    clearErrorLine();
    drawLines();
    drawDirty();
  });
  text.addEventListener("scroll", () => { gutter.scrollTop = text.scrollTop; });
  for (const name of ["keyup", "click", "focus"]) text.addEventListener(name, caretPosition);
  nameInput.addEventListener("input", () => fieldError(nameInput, byId("prompt-name-error"), ""));
  byId("prompt-duplicate").addEventListener("click", duplicate);
  byId("prompt-delete").addEventListener("click", remove);
  byId("prompt-revert").addEventListener("click", revert);
  await loadList();
  const params = new URLSearchParams(window.location.search);
  const kind = params.get("kind");
  if (kind in KINDS && params.get("name")) await openPrompt(kind, params.get("name"), false);
}

main();
