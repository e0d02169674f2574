// The pipeline page: choose a source, stages and engines, start or interrupt a run, watch it live.
import { ApiError, getJSON, loadStages, optional, postJSON } from "./api.js";
import { announce, byId, debounce, el, say } from "./dom.js";
import { ENGINE_FIELDS, engineField, engineLabel, extraChoices } from "./engines.js";
import { createMonitor } from "./monitor.js";
import { formDialog, stageList } from "./widgets.js";

const params = new URLSearchParams(window.location.search);
const form = byId("run-form");
const urlInput = byId("run-url");
const episodeSelect = byId("run-episode");
let stages = [];
let monitor = null;
let presets = [];
let episodesById = new Map();
let episodesLoaded = Promise.resolve();

const OPTION_FIELDS = ["segment_mode", "audio_method", "target_seconds", ...ENGINE_FIELDS,
  "analysis_prompt", "narrative_prompt"];

// ---------------------------------------------------------------------- form building
function sourceKind() {
  return form.querySelector("input[name=source_kind]:checked").value;
}

function setSourceKind(kind) {
  form.querySelector(`input[name=source_kind][value=${kind}]`).checked = true;
  byId("url-field").hidden = kind !== "url";
  byId("episode-field").hidden = kind !== "episode";
}

function buildStageOptions() {
  const list = byId("stage-options");
  list.replaceChildren(...stages.map((stage) => {
    const id = `stage-${stage.number}`;
    const box = el("input", {
      type: "checkbox", id, name: "selected_stages", value: String(stage.number), checked: true,
      attrs: { "aria-describedby": `${id}-desc ${id}-error` },
    });
    // One line per stage: its description is read out and shown on hover (the monitor's cards show it too).
    return el("li", { class: "stage-option", dataset: { stage: String(stage.number) }, title: stage.description },
      box,
      el("div", {},
        el("label", { attrs: { for: id } },
          el("span", { class: "stage-number", text: stage.number, attrs: { "aria-hidden": "true" } }), " ",
          el("span", { text: stage.name })),
        el("p", { id: `${id}-desc`, class: "visually-hidden", text: stage.description }),
        el("p", { id: `${id}-error`, class: "field-error stage-error", hidden: true })));
  }));
}

function selectedStages() {
  return [...form.querySelectorAll("input[name=selected_stages]:checked")].map((box) => Number(box.value));
}

function setSelectedStages(numbers) {
  const wanted = new Set(numbers.map(Number));
  for (const box of form.querySelectorAll("input[name=selected_stages]")) box.checked = wanted.has(Number(box.value));
}

function parseStageSelection(value) {
  if (Array.isArray(value)) return value.map(Number);
  const numbers = [];
  for (const part of String(value || "").split(",")) {
    const [a, b] = part.split("-").map((x) => Number(x.trim()));
    if (Number.isInteger(a)) for (let n = a; n <= (Number.isInteger(b) ? b : a); n += 1) numbers.push(n);
  }
  return numbers;
}

async function loadEpisodes(selectId) {
  try {
    const body = await getJSON("/episodes/api/episodes");
    episodesById = new Map(body.episodes.map((e) => [e.episode_id, e]));
    const keep = selectId || episodeSelect.value;
    episodeSelect.replaceChildren(el("option", { value: "", text: "Choose an episode…" }),
      ...body.episodes.map((e) => el("option", { value: e.episode_id, text: e.display_title || e.title || e.episode_id })));
    if (keep && body.episodes.some((e) => e.episode_id === keep)) episodeSelect.value = keep;
    else if (selectId) say(byId("run-episode-error"), `There is no episode ${selectId} any more.`);
    showTargetDefault();
  } catch (error) {
    say(byId("run-episode-error"), `Could not load the episodes: ${error.message}`);
  }
}

/** Say what "Automatic" means for the chosen episode: a third of it, at most 10 minutes. */
function showTargetDefault() {
  const episode = sourceKind() === "episode" ? episodesById.get(episodeSelect.value) : null;
  const clock = (s) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`;
  let text = "Automatic: a third of the source, at most 10 minutes.";
  if (episode && episode.duration) {
    text = `Automatic: about ${clock(Math.min(episode.duration / 3, 600))} for this ${clock(episode.duration)} source (a third, at most 10 minutes).`;
  }
  byId("run-target-note").textContent = `${text} Clips fill about three quarters of it, narration the rest.`;
}

function selectField(name, label, options) {
  const id = `run-${name.replace(/_/g, "-")}`;
  return el("div", { class: "field" },
    el("label", { attrs: { for: id }, text: label }),
    el("select", { id, name }, options));
}

async function loadEngines() {
  const box = byId("engine-fields");
  try {
    const engines = await getJSON("/pipeline/engines");
    box.replaceChildren(...Object.entries(engines).map(([kind, list]) => {
      const options = [el("option", { value: "", text: "Default" }),
        ...extraChoices(kind, list).map(([value, text]) => el("option", { value, text })),
        ...list.map((engine) => el("option", {
          value: engine.name, disabled: !engine.available,
          text: engine.available ? engine.name : `${engine.name} (unavailable)`,
          // How to set an engine up is for whoever runs the server (docs/ENGINES.md), not this form.
          title: engine.available ? engine.description || "" : engine.reason || "not installed",
        }))];
      return selectField(engineField(kind), engineLabel(kind), options);
    }));
  } catch (error) {
    say(byId("options-error"), `Could not list the engines: ${error.message}. The defaults will be used.`);
  }
}

async function loadPrompts() {
  const body = await optional("/prompts/api/prompts");
  if (!body) return; // prompts API not available yet: the server's defaults apply
  const box = byId("prompt-fields");
  const fields = [];
  for (const kind of ["analysis", "narrative"]) {
    const list = Array.isArray(body[kind]) ? body[kind] : [];
    if (!list.length) continue;
    const options = [el("option", { value: "", text: "Default" }), ...list.map((item) => {
      const name = typeof item === "string" ? item : item.name;
      const title = typeof item === "string" ? "" : item.description || item.title || "";
      return el("option", { value: name, text: title ? `${name} — ${title}` : name });
    })];
    fields.push(selectField(`${kind}_prompt`, kind === "analysis" ? "Analysis guideline" : "Narrative template", options));
  }
  box.replaceChildren(...fields);
  box.hidden = fields.length === 0;
}

async function loadPresets() {
  const body = await optional("/presets/api/presets");
  if (!body || !Array.isArray(body.presets) || !body.presets.length) return;
  presets = body.presets;
  const select = byId("run-preset");
  select.append(...presets.map((p) => el("option", { value: String(p.id), text: `${p.name} (${p.category})` })));
  byId("preset-field").hidden = false;
  select.addEventListener("change", () => applyPreset(select.value));
  const wanted = params.get("preset");
  if (wanted && presets.some((p) => String(p.id) === wanted)) {
    select.value = wanted;
    applyPreset(wanted);
  }
}

function applyPreset(id) {
  const preset = presets.find((p) => String(p.id) === id);
  const note = byId("run-preset-note");
  if (!preset) {
    note.textContent = "";
    return;
  }
  const config = preset.configuration || {};
  if (config.stage_selection) setSelectedStages(parseStageSelection(config.stage_selection));
  for (const name of OPTION_FIELDS) {
    const select = form.elements.namedItem(name);
    if (!select || config[name] === undefined || config[name] === null) continue;
    const option = [...select.options].find((o) => o.value === String(config[name]) && !o.disabled);
    if (option) select.value = option.value;
  }
  note.textContent = preset.description || "Settings filled in from the preset; change any of them.";
  announce(`Preset ${preset.name} applied.`);
  validate();
}

// ---------------------------------------------------------------------- save as preset
function addSavePresetButton() {
  const button = el("button", { type: "button", class: "btn", id: "save-preset", text: "Save as preset" });
  byId("start-button").after(button);
  button.addEventListener("click", saveFormAsPreset);
}

/** The form's stages and options as a preset configuration (the source is not part of it). */
function formConfiguration() {
  const configuration = { stage_selection: selectedStages() };
  for (const name of OPTION_FIELDS) {
    const field = form.elements.namedItem(name);
    if (field && field.value) configuration[name] = field.value;
  }
  return configuration;
}

async function saveFormAsPreset() {
  const configuration = formConfiguration();
  const saved = await formDialog({
    title: "Save these settings as a preset",
    message: `Stages ${stageList(configuration.stage_selection)} and the options chosen for them. The source is not saved with it.`,
    fields: [
      { name: "name", label: "Preset name" },
      { name: "description", label: "Description (optional)", multiline: true },
    ],
    submitText: "Save preset",
    submit: (values) => postJSON("/presets/api/presets", { ...values, configuration }),
  });
  if (!saved) return;
  const select = byId("run-preset");
  if (byId("preset-field").hidden) {
    byId("preset-field").hidden = false;
    select.addEventListener("change", () => applyPreset(select.value));
  }
  presets.push(saved);
  select.append(el("option", { value: String(saved.id), text: `${saved.name} (${saved.category})` }));
  select.value = String(saved.id);
  byId("run-preset-note").textContent = `Saved as the preset “${saved.name}”; find it on the Presets page too.`;
  announce(`Saved the preset ${saved.name}.`);
}

// ---------------------------------------------------------------------- validation
function sourcePayload() {
  if (sourceKind() === "episode") return episodeSelect.value ? { episode_id: episodeSelect.value } : {};
  const url = urlInput.value.trim();
  return url ? { youtube_url: url } : {};
}

function clearStageErrors() {
  for (const node of form.querySelectorAll(".stage-error")) say(node, "");
  for (const item of form.querySelectorAll(".stage-option")) item.classList.remove("has-error");
}

function showStageErrors(errors) {
  clearStageErrors();
  for (const problem of errors) {
    const node = document.getElementById(`stage-${problem.stage}-error`);
    if (!node) continue;
    // One line per problem, never run together.
    if (node.hidden) node.replaceChildren();
    node.append(el("span", { class: "error-line", text: sentence(problem.message) }));
    node.hidden = false;
    node.closest(".stage-option").classList.add("has-error");
  }
}

/** "Stage 4 needs X." from "stage 4 needs X". */
function sentence(message) {
  const text = String(message || "").trim();
  if (!text) return "";
  const capital = text[0].toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

// The status line keeps its place (never hidden) so the form does not jump as it changes.
function setStatus(node, message, kind) {
  node.textContent = message;
  node.dataset.kind = kind;
}

let validation = 0;
async function validate() {
  const ticket = ++validation;
  const status = byId("stages-status");
  const selected = selectedStages();
  if (!selected.length) {
    clearStageErrors();
    setStatus(status, "Select at least one stage.", "error");
    return;
  }
  const source = sourcePayload();
  if (!source.youtube_url && !source.episode_id) {
    clearStageErrors();
    setStatus(status, sourceKind() === "url"
      ? "Enter a video URL to check this selection."
      : "Choose an episode to check this selection.", "info");
    return;
  }
  try {
    const body = await postJSON("/pipeline/validate-stages", {
      selected_stages: selected, ...source,
      segment_mode: byId("run-segment-mode").value, audio_method: byId("run-audio-method").value,
    });
    if (ticket !== validation) return; // a newer check is on its way
    showStageErrors(body.errors || []);
    setStatus(status, body.valid
      ? `Ready: stage${selected.length === 1 ? "" : "s"} ${stageList(selected)} can run.`
      : `${body.errors.length} problem${body.errors.length === 1 ? "" : "s"} with this selection (see the stages above).`,
    body.valid ? "ok" : "error");
  } catch (error) {
    if (ticket !== validation) return;
    setStatus(status, `Could not check the selection: ${error.message}`, "error");
  }
}
const validateSoon = debounce(validate, 250);

// ---------------------------------------------------------------------- start
function showStartError(error) {
  const byField = {
    youtube_url: "run-url-error", url: "run-url-error", source: "run-url-error",
    episode_id: "run-episode-error", selected_stages: "stages-error",
  };
  const target = byField[error.field] || (OPTION_FIELDS.includes(error.field) ? "options-error" : "start-error");
  say(byId(target), error.message);
  if (error.errors?.length) showStageErrors(error.errors);
  const input = { "run-url-error": urlInput, "run-episode-error": episodeSelect }[target];
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
  if (target !== "start-error") say(byId("start-error"), "The run did not start: see the message above.");
}

async function offerRunningSession() {
  const status = await optional("/pipeline/status");
  if (!status || !status.session_id) return;
  const node = byId("start-error");
  const button = el("button", { type: "button", class: "btn btn-small", text: "Show that run" });
  button.addEventListener("click", () => monitor.watch(status.session_id));
  node.append(" ", button);
}

function clearErrors() {
  for (const id of ["run-url-error", "run-episode-error", "stages-error", "options-error", "start-error"]) say(byId(id), "");
  urlInput.removeAttribute("aria-invalid");
  episodeSelect.removeAttribute("aria-invalid");
}

async function start(event) {
  event.preventDefault();
  clearErrors();
  const source = sourcePayload();
  if (!source.youtube_url && !source.episode_id) {
    showStartError(new ApiError(sourceKind() === "url" ? "Enter the address of a video." : "Choose an episode.",
      { field: sourceKind() === "url" ? "youtube_url" : "episode_id" }));
    return;
  }
  const selected = selectedStages();
  if (!selected.length) {
    showStartError(new ApiError("Select at least one stage.", { field: "selected_stages" }));
    return;
  }
  const body = { ...source, selected_stages: selected };
  for (const name of OPTION_FIELDS) {
    const field = form.elements.namedItem(name);
    if (field && field.value) body[name] = field.value;
  }
  const preset = byId("run-preset");
  const chosen = presets.find((p) => String(p.id) === preset.value);
  if (chosen) body.preset = chosen.id;
  if (byId("run-force").checked) body.force = true;
  const button = byId("start-button");
  button.disabled = true;
  try {
    const answer = await postJSON("/pipeline/execute", body);
    announce("Run started.");
    monitor.watch(answer.session_id);
    byId("monitor").scrollIntoView({ behavior: "smooth", block: "start" });
    if (source.youtube_url) loadEpisodes(answer.episode_id).then(() => {
      setSourceKind("episode");
      episodeSelect.value = answer.episode_id;
    });
  } catch (error) {
    showStartError(error);
    if (error.status === 409) await offerRunningSession();
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------- wiring
function wire() {
  for (const radio of form.querySelectorAll("input[name=source_kind]")) {
    radio.addEventListener("change", () => {
      setSourceKind(sourceKind());
      showTargetDefault();
      validateSoon();
    });
  }
  urlInput.addEventListener("input", () => {
    say(byId("run-url-error"), "");
    urlInput.removeAttribute("aria-invalid");
    validateSoon();
  });
  episodeSelect.addEventListener("change", () => {
    say(byId("run-episode-error"), "");
    episodeSelect.removeAttribute("aria-invalid");
    showTargetDefault();
    validateSoon();
  });
  byId("stage-options").addEventListener("change", () => {
    say(byId("stages-error"), "");
    validateSoon();
  });
  byId("run-segment-mode").addEventListener("change", validateSoon);
  byId("run-audio-method").addEventListener("change", validateSoon);
  byId("stages-all").addEventListener("click", () => {
    setSelectedStages(stages.map((s) => s.number));
    validateSoon();
  });
  byId("stages-none").addEventListener("click", () => {
    setSelectedStages([]);
    validateSoon();
  });
  form.addEventListener("submit", start);
  form.addEventListener("input", () => { formTouched = true; });
}

let formTouched = false;

function rememberSessionInUrl(sessionId) {
  const url = new URL(window.location.href);
  if (url.searchParams.get("session") !== sessionId) {
    url.searchParams.set("session", sessionId);
    window.history.replaceState(null, "", url);
  }
  if (!formTouched && !params.get("episode")) preselectEpisodeOf(sessionId);
}

/** Point an untouched form at the shown session's episode, so running it again is one click. */
async function preselectEpisodeOf(sessionId) {
  const status = await optional(`/pipeline/status/${encodeURIComponent(sessionId)}`);
  if (!status?.episode_id || formTouched) return;
  await episodesLoaded;
  if (!episodesById.has(status.episode_id)) return;
  setSourceKind("episode");
  episodeSelect.value = status.episode_id;
  validateSoon();
}

async function main() {
  wire();
  try {
    stages = await loadStages();
  } catch (error) {
    say(byId("start-error"), `Could not load the stage list: ${error.message}. Reload the page to try again.`);
    return;
  }
  buildStageOptions();
  const episodeId = params.get("episode");
  if (episodeId) setSourceKind("episode");
  if (params.get("stages")) setSelectedStages(parseStageSelection(params.get("stages")));
  episodesLoaded = loadEpisodes(episodeId);

  const sessionId = params.get("session");
  monitor = await createMonitor(byId("monitor"), { follow: !sessionId, onSession: rememberSessionInUrl });
  if (sessionId) monitor.watch(sessionId);
  await Promise.all([episodesLoaded, loadEngines(), loadPrompts()]);
  await loadPresets();
  addSavePresetButton();
  validate();
}

main();
