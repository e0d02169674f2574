// The presets page: system and custom workflow presets; create, edit, duplicate, delete,
// export and import them, and open the pipeline with one.
import { del, getJSON, loadStages, optional, postJSON, putJSON, request } from "./api.js";
import { announce, byId, el, fieldError, say } from "./dom.js";
import { ENGINE_KINDS, engineField, engineLabel, extraChoices } from "./engines.js";
import { confirmDialog, formDialog, stageList } from "./widgets.js";

const PROMPT_LABELS = { analysis: "Analysis guideline", narrative: "Narrative template" };
const MODE_WORDS = { auto: "chosen automatically", manual: "picked by you" };
const AUDIO_WORDS = { tts: "text to speech", manual: "your own recordings" };
const OUTPUT_KEYS = ["max_height", "crf"];

const form = byId("preset-form");
const editor = byId("editor");
let stages = [];
let presets = [];
let editing = null; // the preset being edited; null while making a new one
let opener = null; // what to focus when the editor closes

// ---------------------------------------------------------------------- list
function summary(config) {
  const output = config.output_settings || {};
  const outputWords = [
    output.max_height ? `at most ${output.max_height} px high` : null,
    output.crf !== undefined && output.crf !== null ? `CRF ${output.crf}` : null,
  ].filter(Boolean).join(", ") || "server defaults";
  const item = (term, value) => el("div", {}, el("dt", { text: term }), el("dd", { text: value }));
  return el("dl", { class: "preset-summary" },
    item("Stages", stageList(config.stage_selection)),
    item("Segments", MODE_WORDS[config.segment_mode] || config.segment_mode || "—"),
    item("Narration", `${AUDIO_WORDS[config.audio_method] || config.audio_method || "—"}${config.audio_method === "tts" && config.tts_engine ? ` (${config.tts_engine})` : ""}`),
    item("Engines", Object.keys(ENGINE_KINDS).map((kind) => `${kind} ${config[engineField(kind)] || "default"}`).join(" · ")),
    item("Prompts", `guideline ${config.analysis_prompt || "default"} · template ${config.narrative_prompt || "default"}`),
    item("Output", outputWords));
}

function actionButton(action, preset, text, extra = "") {
  return el("button", {
    type: "button", class: `btn btn-small ${extra}`.trim(), text, dataset: { action, preset: preset.id },
    attrs: { "aria-label": `${text} ${preset.name}` },
  });
}

function presetCard(preset) {
  const id = encodeURIComponent(preset.id);
  const custom = preset.category === "custom";
  return el("li", { class: "preset-card", dataset: { preset: preset.id, category: preset.category } },
    el("div", { class: "preset-card-head" },
      el("h3", { id: `card-${preset.id}`, tabIndex: -1, text: preset.name }),
      el("span", { class: "badge", dataset: { status: preset.category }, text: preset.category })),
    preset.description ? el("p", { class: "muted small", text: preset.description }) : null,
    summary(preset.configuration || {}),
    el("div", { class: "actions compact" },
      el("a", { class: "btn btn-small btn-primary", href: `/pipeline/?preset=${id}`, text: "Run with it",
        attrs: { "aria-label": `Run the pipeline with ${preset.name}` } }),
      custom ? actionButton("edit", preset, "Edit") : null,
      actionButton("duplicate", preset, "Duplicate"),
      el("a", { class: "btn btn-small", href: `/presets/api/presets/${id}/export`, text: "Export",
        attrs: { download: `${preset.id}.json`, "aria-label": `Export ${preset.name}` } }),
      custom ? actionButton("delete", preset, "Delete", "btn-danger") : null),
    el("p", { class: "field-error card-error", hidden: true, attrs: { role: "alert" } }));
}

async function refresh() {
  try {
    const body = await getJSON("/presets/api/presets");
    presets = body.presets || [];
    const custom = presets.filter((p) => p.category === "custom");
    byId("custom-presets").replaceChildren(...custom.map(presetCard));
    byId("system-presets").replaceChildren(...presets.filter((p) => p.category !== "custom").map(presetCard));
    byId("custom-empty").hidden = custom.length > 0;
    say(byId("presets-error"), "");
  } catch (error) {
    say(byId("presets-error"), `Could not load the presets: ${error.message}`);
  }
}

function focusCard(presetId) {
  document.getElementById(`card-${presetId}`)?.focus();
}

function notice(message) {
  say(byId("presets-status"), message, "ok");
  announce(message);
}

// ---------------------------------------------------------------------- the form
function selectField(name, label, options) {
  const id = `preset-${name}`;
  return el("div", { class: "field" },
    el("label", { attrs: { for: id }, text: label }),
    el("select", { id, name, attrs: { "aria-describedby": `${id}-error` } }, options),
    el("p", { id: `${id}-error`, class: "field-error", hidden: true, attrs: { role: "alert" } }));
}

function buildStageBoxes() {
  byId("preset-stages").replaceChildren(...stages.map((stage) => {
    const id = `preset-stage-${stage.number}`;
    return el("li", { class: "stage-option" },
      el("input", { type: "checkbox", id, name: "stage", value: String(stage.number) }),
      el("label", { attrs: { for: id } },
        el("span", { class: "stage-number", text: stage.number, attrs: { "aria-hidden": "true" } }), " ",
        el("span", { text: stage.name })));
  }));
}

async function buildChoiceFields() {
  const [prompts, engines] = await Promise.all([optional("/prompts/api/prompts"), optional("/pipeline/engines")]);
  byId("preset-prompt-fields").replaceChildren(...Object.entries(PROMPT_LABELS).map(([kind, label]) => {
    const names = (prompts?.[kind] || []).map((p) => (typeof p === "string" ? p : p.name));
    return selectField(`${kind}_prompt`, label, [el("option", { value: "", text: "Default" }),
      ...names.map((name) => el("option", { value: name, text: name }))]);
  }));
  byId("preset-engine-fields").replaceChildren(...Object.keys(ENGINE_KINDS).map((kind) => {
    const list = engines?.[kind] || [];
    const options = [el("option", { value: "", text: "Server default" }),
      ...extraChoices(kind, list).map(([value, text]) => el("option", { value, text }))];
    // An engine unavailable here may be available where the preset runs: still offered.
    options.push(...list.map((engine) => el("option", {
      value: engine.name, title: engine.description || "",
      text: engine.available ? engine.name : `${engine.name} (unavailable now: ${engine.reason || "not installed"})`,
    })));
    return selectField(engineField(kind), engineLabel(kind), options);
  }));
}

function setSelect(name, value) {
  const select = form.elements.namedItem(name);
  if (!select) return;
  const wanted = value === undefined || value === null ? "" : String(value);
  if (wanted && ![...select.options].some((o) => o.value === wanted)) {
    select.append(el("option", { value: wanted, text: `${wanted} (not known here)` }));
  }
  select.value = wanted;
}

function choiceNames() {
  return [...form.querySelectorAll("select")].map((s) => s.name);
}

function fillForm(preset) {
  const config = preset?.configuration || {};
  form.elements.namedItem("name").value = preset?.name || "";
  form.elements.namedItem("description").value = preset?.description || "";
  const chosen = new Set((config.stage_selection || stages.map((s) => s.number)).map(Number));
  for (const box of form.querySelectorAll("input[name=stage]")) box.checked = chosen.has(Number(box.value));
  for (const name of choiceNames()) {
    const fallback = { segment_mode: "auto", audio_method: "tts" }[name] ?? "";
    setSelect(name, config[name] ?? fallback);
  }
  const output = config.output_settings || {};
  for (const key of OUTPUT_KEYS) form.elements.namedItem(key).value = output[key] ?? "";
}

function formPayload() {
  // An edit keeps the settings this form does not show (the server may know more of them).
  const configuration = {
    ...(editing?.configuration || {}),
    stage_selection: [...form.querySelectorAll("input[name=stage]:checked")].map((box) => Number(box.value)),
  };
  for (const name of choiceNames()) {
    const value = form.elements.namedItem(name).value;
    if (value) configuration[name] = value;
    else delete configuration[name];
  }
  const output = {};
  for (const key of OUTPUT_KEYS) {
    const raw = form.elements.namedItem(key).value.trim();
    // Whole numbers go as numbers; anything else goes as typed, and the server says what is wrong.
    if (raw !== "") output[key] = /^-?\d+$/.test(raw) ? Number(raw) : raw;
  }
  configuration.output_settings = output;
  return {
    name: form.elements.namedItem("name").value.trim(),
    description: form.elements.namedItem("description").value.trim(),
    configuration,
  };
}

function errorTarget(field) {
  const key = String(field || "").replace(/^configuration\./, "").replace(/\./g, "-");
  const node = key && document.getElementById(`preset-${key}-error`);
  if (node) {
    const input = key === "stage_selection" ? form.querySelector("input[name=stage]") : document.getElementById(`preset-${key}`);
    return { node, input };
  }
  if (key.startsWith("output_settings")) return { node: byId("preset-output_settings-error"), input: null };
  return { node: byId("preset-form-error"), input: null };
}

function clearFormErrors() {
  for (const node of form.querySelectorAll(".field-error")) say(node, "");
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

function showFormError(error) {
  const { node, input } = errorTarget(error.field);
  fieldError(input && input.type !== "checkbox" ? input : null, node, error.message);
  if (node.id !== "preset-form-error") say(byId("preset-form-error"), "Not saved: see the message above.");
  (input || node).focus?.();
  if (!input) node.scrollIntoView({ block: "center" });
}

function badNumbers() {
  for (const key of OUTPUT_KEYS) {
    const input = form.elements.namedItem(key);
    if (input.validity.badInput) {
      return { field: `configuration.output_settings.${key}`, message: "Enter a whole number." };
    }
  }
  return null;
}

function openEditor(preset, from) {
  editing = preset;
  opener = from || document.activeElement;
  clearFormErrors();
  fillForm(preset);
  byId("editor-title").textContent = preset ? `Edit “${preset.name}”` : "New preset";
  byId("preset-save").textContent = preset ? "Save changes" : "Save preset";
  editor.hidden = false;
  editor.scrollIntoView({ block: "start" });
  form.elements.namedItem("name").focus();
}

function closeEditor() {
  editor.hidden = true;
  editing = null;
  if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
}

async function submitForm(event) {
  event.preventDefault();
  clearFormErrors();
  const local = badNumbers();
  if (local) {
    showFormError(local);
    return;
  }
  const payload = formPayload();
  if (editing) {
    const yes = await confirmDialog({
      title: "Save the changes?",
      message: `“${editing.name}” will be replaced by these settings.`,
      confirmText: "Save changes",
    });
    if (!yes) return;
  }
  const button = byId("preset-save");
  button.disabled = true;
  try {
    const saved = editing
      ? await putJSON(`/presets/api/presets/${encodeURIComponent(editing.id)}`, payload)
      : await postJSON("/presets/api/presets", payload);
    const verb = editing ? "Saved" : "Created";
    editing = null;
    editor.hidden = true;
    await refresh();
    notice(`${verb} the preset “${saved.name}”.`);
    focusCard(saved.id);
  } catch (error) {
    showFormError(error);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------- card actions
function cardError(button, message) {
  say(button.closest(".preset-card").querySelector(".card-error"), message);
}

async function duplicate(preset) {
  const copy = await formDialog({
    title: `Duplicate “${preset.name}”`,
    message: "The copy is yours: change it as you like.",
    fields: [{ name: "name", label: "Name of the copy", value: `${preset.name} (copy)` }],
    submitText: "Duplicate",
    submit: (values) => postJSON("/presets/api/presets", {
      name: values.name, description: preset.description || "", configuration: preset.configuration,
    }),
  });
  if (!copy) return;
  await refresh();
  notice(`Duplicated “${preset.name}” as “${copy.name}”.`);
  openEditor(presets.find((p) => p.id === copy.id) || copy, document.getElementById(`card-${copy.id}`));
}

async function remove(preset, button) {
  const yes = await confirmDialog({
    title: "Delete this preset?",
    message: `“${preset.name}” will be deleted. Runs made with it are not affected.`,
    confirmText: "Delete preset",
    danger: true,
  });
  if (!yes) {
    button.focus();
    return;
  }
  try {
    await del(`/presets/api/presets/${encodeURIComponent(preset.id)}`);
    if (editing?.id === preset.id) closeEditor();
    await refresh();
    notice(`Deleted the preset “${preset.name}”.`);
    byId("custom-title").focus();
  } catch (error) {
    cardError(button, error.message);
    button.focus();
  }
}

async function onCardClick(event) {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const preset = presets.find((p) => p.id === button.dataset.preset);
  if (!preset) return;
  cardError(button, "");
  if (button.dataset.action === "edit") openEditor(preset, button);
  else if (button.dataset.action === "duplicate") await duplicate(preset);
  else if (button.dataset.action === "delete") await remove(preset, button);
}

async function importPreset(event) {
  event.preventDefault();
  const input = byId("import-file");
  const error = byId("import-error");
  const file = input.files[0];
  if (!file) {
    fieldError(input, error, "Choose a preset file (.json) first.");
    input.focus();
    return;
  }
  const data = new FormData();
  data.append("file", file);
  try {
    const created = await request("POST", "/presets/api/presets/import", data);
    fieldError(input, error, "");
    input.value = "";
    await refresh();
    notice(`Imported the preset “${created.name}”.`);
    focusCard(created.id);
  } catch (problem) {
    fieldError(input, error, `Not imported: ${problem.message}`);
    input.focus();
  }
}

// ---------------------------------------------------------------------- wiring
async function main() {
  byId("new-preset").addEventListener("click", (event) => openEditor(null, event.currentTarget));
  byId("preset-cancel").addEventListener("click", closeEditor);
  form.addEventListener("submit", submitForm);
  form.addEventListener("input", (event) => {
    const target = event.target;
    if (target.getAttribute("aria-invalid")) target.removeAttribute("aria-invalid");
  });
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !document.querySelector("dialog[open]")) closeEditor();
  });
  byId("custom-presets").addEventListener("click", onCardClick);
  byId("system-presets").addEventListener("click", onCardClick);
  byId("import-form").addEventListener("submit", importPreset);
  byId("import-file").addEventListener("change", () => fieldError(byId("import-file"), byId("import-error"), ""));
  try {
    stages = await loadStages();
  } catch (error) {
    say(byId("presets-error"), `Could not load the stage list: ${error.message}`);
  }
  buildStageBoxes();
  await Promise.all([buildChoiceFields(), refresh()]);
}

main();
