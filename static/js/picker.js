// The segment picker: sort, filter and choose an episode's analysed segments, preview each one's
// exact range of the source video, save the choice and make the video from it.
import { episodeFileUrl, getJSON, isActive, mediaUrl, optional, postJSON } from "./api.js";
import { announce, byId, debounce, el, frameBatcher, say } from "./dom.js";
import * as fmt from "./format.js";
import { createMonitor } from "./monitor.js";
import { on } from "./socket.js";
import { SegmentList } from "./segmentlist.js";
import { plural } from "./widgets.js";

const episodeId = byId("main").dataset.episodeId;
const enc = encodeURIComponent(episodeId);
const STORE_KEY = `clipcast:picker:${episodeId}`;
const GUESS = { perClip: 25, bookends: 20 }; // seconds, when there is no script to measure
const GENERATE_STAGES = [4, 5, 6, 7];
const FILTERS = ["severity", "category", "speaker", "q"];

const controls = byId("picker-controls");

const state = {
  episode: null,
  segments: [], // in the server's sort order
  byId: new Map(),
  haystacks: new Map(), // segment id -> lower-case text the search looks in
  shown: [], // the segments the filters let through, in order
  selected: new Set(),
  saved: new Set(),
  savedBy: null, // "auto" when the saved selection is what an automatic run chose
  narration: { ...GUESS, fromScript: false },
  transcript: null, // promise of the transcript rows
  waitingSession: null,
  monitor: null,
  ticket: 0,
};

// ---------------------------------------------------------------------- the stored draft
/** A fingerprint of the analysis, so a draft never outlives the segments it was made for. */
function analysisSignature(segments) {
  const text = segments.map((s) => `${s.segment_id}@${s.fullerContextTimestamps.start}:${s.narrativeSegmentTitle}`)
    .sort().join("|");
  let hash = 5381;
  for (let i = 0; i < text.length; i += 1) hash = ((hash * 33) ^ text.charCodeAt(i)) >>> 0;
  return `${segments.length}-${hash.toString(36)}`;
}

function readDraft(signature) {
  try {
    const draft = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    return draft && draft.signature === signature && Array.isArray(draft.ids) ? draft.ids : null;
  } catch {
    return null;
  }
}

function writeDraft() {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify({
      signature: state.signature, ids: [...state.selected], saved_at: Date.now(),
    }));
  } catch {
    // Storage full or blocked: the selection still works until the page closes.
  }
}

// ---------------------------------------------------------------------- overview
function selectedSeconds() {
  let total = 0;
  for (const id of state.selected) total += Number(state.byId.get(id)?.segmentDurationInSeconds) || 0;
  return total;
}

function drawOverview() {
  const count = state.selected.size;
  const clips = selectedSeconds();
  const n = state.narration;
  byId("ov-total").textContent = String(state.segments.length);
  byId("ov-selected").textContent = String(count);
  byId("ov-clip-time").textContent = count ? fmt.duration(clips) : "—";
  byId("ov-final").textContent = count ? `about ${fmt.duration(clips + n.bookends + n.perClip * count)}` : "—";
  byId("ov-basis").textContent = n.fromScript
    ? `Final length = selected clip time + narration. Narration is estimated from the current script's estimated durations: ${Math.round(n.bookends)} s for the intro and outro, and ${Math.round(n.perClip)} s per clip on average.`
    : `Final length = selected clip time + narration. There is no script yet, so narration is estimated at about ${GUESS.perClip} s per clip plus ${GUESS.bookends} s for the intro and outro.`;
  drawDirty();
}
const overviewSoon = frameBatcher(drawOverview);

function sameSets(a, b) {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function drawDirty() {
  const note = byId("dirty-note");
  if (state.savedBy === "auto" && state.saved.size) {
    note.textContent = sameSets(state.selected, state.saved)
      ? "Chosen automatically by the last run: save it to make it your selection."
      : "Unsaved changes.";
    note.dataset.kind = "dirty";
  } else if (sameSets(state.selected, state.saved)) {
    note.textContent = state.saved.size ? "Saved." : "Nothing selected yet.";
    note.dataset.kind = "saved";
  } else {
    note.textContent = state.saved.size ? "Unsaved changes." : "Not saved yet.";
    note.dataset.kind = "dirty";
  }
}

/** Measure the narration per clip from the script, when stage 4 has written one. */
async function loadNarrationBasis() {
  if (state.episode?.stages?.["4"] !== "complete") return;
  try {
    const script = await getJSON(episodeFileUrl(state.episode, "script"));
    const sections = Array.isArray(script?.podcast_sections) ? script.podcast_sections : [];
    const seconds = (types) => sections.filter((s) => types.includes(s.section_type))
      .reduce((sum, s) => sum + (Number(s.estimated_duration) || 0), 0);
    const clips = sections.filter((s) => s.section_type === "video_clip").length;
    const bookends = seconds(["intro", "outro"]);
    const perClip = clips ? seconds(["pre_clip", "post_clip"]) / clips : 0;
    if (bookends + perClip > 0) state.narration = { bookends, perClip: perClip || GUESS.perClip, fromScript: true };
  } catch {
    // No readable script: the stated guess stands.
  }
  overviewSoon();
}

// ---------------------------------------------------------------------- filters and sorting
function controlValues() {
  const data = new FormData(controls);
  return Object.fromEntries([...data.entries()].map(([k, v]) => [k, String(v).trim()]));
}

function rememberInUrl() {
  const url = new URL(window.location.href);
  const values = controlValues();
  for (const [key, value] of Object.entries(values)) {
    const isDefault = (key === "sort" && value === "timestamp") || (key === "order" && value === "asc") || !value;
    if (isDefault) url.searchParams.delete(key);
    else url.searchParams.set(key, value);
  }
  window.history.replaceState(null, "", url);
}

function fillChoices(select, values) {
  const keep = select.value;
  select.replaceChildren(select.options[0], ...values.map((v) => el("option", { value: v, text: v })));
  if (values.includes(keep)) select.value = keep;
}

function buildFilterChoices() {
  const unique = (field) => [...new Set(state.segments.map((s) => s[field]))]
    .sort((a, b) => a.localeCompare(b, undefined, { sensitivity: "base" }));
  fillChoices(byId("filter-category"), unique("harm_category"));
  fillChoices(byId("filter-speaker"), unique("primary_speaker_of_quote"));
}

function matches(segment, f, words) {
  if (f.severity && segment.severityRating !== f.severity) return false;
  if (f.category && segment.harm_category !== f.category) return false;
  if (f.speaker && segment.primary_speaker_of_quote !== f.speaker) return false;
  if (words.length) {
    const hay = state.haystacks.get(segment.segment_id);
    return words.every((w) => hay.includes(w));
  }
  return true;
}

function applyFilters() {
  const f = controlValues();
  const words = (f.q || "").toLowerCase().split(/\s+/).filter(Boolean);
  state.shown = state.segments.filter((s) => matches(s, f, words));
  cards.show(state.shown);
  const total = state.segments.length;
  const filtered = FILTERS.some((k) => f[k]);
  const words2 = filtered
    ? `${plural(state.shown.length, "segment")} of ${total} match the filters.`
    : `${plural(total, "segment")}.`;
  byId("shown-count").textContent = words2;
  byId("list-empty").hidden = state.shown.length > 0 || total === 0;
}
const announceCount = debounce(() => announce(byId("shown-count").textContent), 600);

async function loadSegments() {
  const ticket = ++state.ticket;
  const f = controlValues();
  const body = await getJSON(`/segments/api/${enc}?sort=${encodeURIComponent(f.sort)}&order=${encodeURIComponent(f.order)}`);
  if (ticket !== state.ticket) return null; // a newer sort is on its way
  state.segments = body.segments || [];
  state.byId = new Map(state.segments.map((s) => [s.segment_id, s]));
  state.haystacks = new Map(state.segments.map((s) => [s.segment_id, [
    s.narrativeSegmentTitle, s.harm_category, s.primary_speaker_of_quote, s.brief_reasoning_for_classification,
    s.clipContextDescription, ...(s.suggestedClip || []).map((q) => q.quote),
  ].join(" ").toLowerCase()]));
  return body;
}

async function resort() {
  rememberInUrl();
  try {
    if (!(await loadSegments())) return;
    say(byId("load-error"), "");
    applyFilters();
    announceCount();
  } catch (error) {
    say(byId("load-error"), `Could not sort the segments: ${error.message}`);
  }
}

// ---------------------------------------------------------------------- cards
function sourceUrl() {
  const ep = state.episode;
  if (!ep) return null;
  if (ep.stages?.["1"] === "complete") return episodeFileUrl(ep, "original_video");
  // Before stage 1, an uploaded file is the same timeline.
  if (ep.source_kind === "upload" && ep.source) return mediaUrl(episodeId, ep.source);
  return null;
}

function transcriptRows() {
  if (!state.transcript) {
    state.transcript = state.episode?.stages?.["2"] === "complete"
      ? getJSON(episodeFileUrl(state.episode, "transcript")).then((data) => {
        const rows = Array.isArray(data) ? data : data?.segments;
        return (Array.isArray(rows) ? rows : []).filter((r) => r && typeof r.text === "string");
      })
      : Promise.resolve(null);
    state.transcript.catch(() => { state.transcript = null; }); // try again next time
  }
  return state.transcript;
}

const cards = new SegmentList(byId("segment-list"), byId("list-sentinel"), {
  isSelected: (id) => state.selected.has(id),
  onCheck: (id, checked) => {
    if (checked) state.selected.add(id);
    else state.selected.delete(id);
    writeDraft();
    overviewSoon();
  },
  sourceUrl,
  transcript: transcriptRows,
});

// ---------------------------------------------------------------------- selection
function setChecked(ids, checked) {
  for (const id of ids) {
    if (checked) state.selected.add(id);
    else state.selected.delete(id);
  }
  cards.syncChecks();
  writeDraft();
  overviewSoon();
}

function orderedSelection() {
  const start = (id) => Number(state.byId.get(id)?.fullerContextTimestamps.start) || 0;
  return [...state.selected].filter((id) => state.byId.has(id)).sort((a, b) => start(a) - start(b));
}

function clearMessages() {
  say(byId("save-error"), "");
  say(byId("save-status"), "");
}

function sayWithLink(node, text, href, linkText) {
  node.replaceChildren(text, " ", el("a", { href, text: linkText }));
  node.hidden = false;
}

async function saveSelection() {
  clearMessages();
  const ids = orderedSelection();
  if (!ids.length) {
    say(byId("save-error"), "Select at least one segment first.");
    return false;
  }
  const button = byId("save-selection");
  button.disabled = true;
  try {
    const body = await postJSON(`/segments/api/${enc}/select`, { segment_ids: ids });
    state.saved = new Set(ids);
    state.savedBy = "user";
    const waiting = state.waitingSession;
    const words = waiting
      ? `Saved ${plural(body.selected, "segment")}: the waiting run goes on with them.`
      : `Saved ${plural(body.selected, "segment")}.`;
    say(byId("save-status"), words, "info");
    announce(words);
    if (waiting) runContinues();
    drawDirty();
    return true;
  } catch (error) {
    say(byId("save-error"), `Could not save the selection: ${error.message}`);
    return false;
  } finally {
    button.disabled = false;
  }
}

async function generate() {
  clearMessages();
  if (!state.selected.size) {
    say(byId("save-error"), "Select at least one segment first.");
    return;
  }
  // Always saved first: a manual run waits unless the selection on disk is a person's.
  if (!(await saveSelection())) return;
  const button = byId("generate");
  button.disabled = true;
  try {
    const answer = await postJSON("/pipeline/execute", {
      episode_id: episodeId, selected_stages: GENERATE_STAGES, segment_mode: "manual",
    });
    await showMonitor(answer.session_id);
    sayWithLink(byId("save-status"), `Making the video from ${plural(state.saved.size, "segment")} (stages 4–7).`,
      `/pipeline/?session=${encodeURIComponent(answer.session_id)}`, "Open this run on the pipeline page");
    announce("Run started: stages 4 to 7.");
    byId("picker-monitor").scrollIntoView({ behavior: "smooth", block: "start" });
  } catch (error) {
    say(byId("save-error"), `The run did not start: ${error.message}`);
    if (error.status === 409) {
      const running = await optional("/pipeline/status");
      if (running?.session_id) {
        byId("save-error").append(" ", el("a", {
          href: `/pipeline/?session=${encodeURIComponent(running.session_id)}`, text: "See the running run" }));
      }
    }
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------- runs
async function showMonitor(sessionId) {
  const section = byId("picker-monitor");
  if (!state.monitor) {
    state.monitor = await createMonitor(section, { pickerLink: false, onFinish: () => finishedRun() });
  }
  section.hidden = false;
  if (state.monitor.sessionId !== sessionId) state.monitor.watch(sessionId);
}

function showWaiting(sessionId) {
  if (state.waitingSession === sessionId) return;
  state.waitingSession = sessionId;
  const banner = byId("waiting-banner");
  byId("waiting-title").textContent = "A run is waiting for your selection";
  byId("waiting-text").textContent = "Choose the segments below and press “Save selection”: saving continues the run.";
  byId("waiting-link").href = `/pipeline/?session=${encodeURIComponent(sessionId)}`;
  banner.hidden = false;
  byId("generate").hidden = true;
  byId("save-selection").textContent = "Save selection and continue";
  announce("A run is waiting for your selection. Saving it continues the run.");
  showMonitor(sessionId);
}

function runContinues() {
  state.waitingSession = null;
  byId("waiting-title").textContent = "The run goes on with your selection";
  byId("waiting-text").textContent = "Your selection is saved. The run continues below; you can follow it here or on the pipeline page.";
  byId("save-selection").textContent = "Save selection";
  byId("generate").hidden = false;
}

async function finishedRun() {
  // A finished run may have written a script: the narration estimate can now be measured.
  try {
    state.episode = await getJSON(`/episodes/api/episodes/${enc}`);
    byId("narration-link").hidden = state.episode.stages?.["4"] !== "complete";
    await loadNarrationBasis();
  } catch {
    // The overview keeps its earlier estimate.
  }
}

async function findWaitingRun() {
  const body = await optional("/pipeline/sessions");
  const mine = (body?.sessions || []).filter((s) => s.episode_id === episodeId);
  const waiting = mine.find((s) => s.status === "waiting_for_selection");
  if (waiting) showWaiting(waiting.session_id);
  else {
    const active = mine.find((s) => isActive(s.status));
    if (active) showMonitor(active.session_id);
  }
}

// ---------------------------------------------------------------------- wiring
function applyUrlState() {
  const params = new URLSearchParams(window.location.search);
  for (const name of ["sort", "order", "severity", "category", "speaker", "q"]) {
    const field = controls.elements.namedItem(name);
    const value = params.get(name);
    if (!field || value === null) continue;
    if (field.tagName === "SELECT" && ![...field.options].some((o) => o.value === value)) continue;
    field.value = value;
  }
}

function wire() {
  byId("sort-key").addEventListener("change", resort);
  byId("sort-order").addEventListener("change", resort);
  const refilter = () => {
    rememberInUrl();
    applyFilters();
    announceCount();
  };
  for (const id of ["filter-severity", "filter-category", "filter-speaker"]) byId(id).addEventListener("change", refilter);
  byId("filter-text").addEventListener("input", debounce(refilter, 150));
  controls.addEventListener("submit", (event) => event.preventDefault());
  byId("filter-reset").addEventListener("click", () => {
    for (const name of FILTERS) controls.elements.namedItem(name).value = "";
    refilter();
    byId("filter-severity").focus();
  });
  byId("select-shown").addEventListener("click", () => {
    setChecked(state.shown.map((s) => s.segment_id), true);
    announce(`Selected the ${plural(state.shown.length, "shown segment")}; ${state.selected.size} selected in all.`);
  });
  byId("clear-shown").addEventListener("click", () => {
    setChecked(state.shown.map((s) => s.segment_id), false);
    announce(`Cleared the shown segments; ${state.selected.size} selected in all.`);
  });
  byId("save-selection").addEventListener("click", saveSelection);
  byId("generate").addEventListener("click", generate);
  on("pipeline_waiting", (p) => {
    if (p.episode_id === episodeId) showWaiting(p.session_id);
  });
}

function noSegments(message, runStage3) {
  const node = byId("load-error");
  node.replaceChildren(message, " ",
    runStage3 ? el("a", { href: `/pipeline/?episode=${enc}&stages=3`, text: "Run stage 3 (Content Analysis)" }) : null);
  node.hidden = false;
  for (const id of ["save-selection", "generate", "select-shown", "clear-shown"]) byId(id).disabled = true;
}

async function main() {
  wire();
  applyUrlState();
  try {
    state.episode = await getJSON(`/episodes/api/episodes/${enc}`);
  } catch (error) {
    say(byId("load-error"), `Could not load the episode: ${error.message}`);
    return;
  }
  byId("narration-link").hidden = state.episode.stages?.["4"] !== "complete";
  findWaitingRun();
  // "running" may still have an earlier analysis on disk: the API says whether it does.
  if (!["complete", "running"].includes(state.episode.stages?.["3"])) {
    noSegments("This episode has no analysed segments yet.", true);
    drawOverview();
    return;
  }
  let body;
  try {
    body = await loadSegments();
  } catch (error) {
    noSegments(`Could not load the segments: ${error.message}`, error.status === 404);
    return;
  }
  state.signature = analysisSignature(state.segments);
  const draft = readDraft(state.signature);
  state.saved = new Set((body.selected_ids || []).filter((id) => state.byId.has(id)));
  state.savedBy = state.saved.size ? body.selected_by ?? null : null;
  state.selected = new Set((draft ?? [...state.saved]).filter((id) => state.byId.has(id)));
  buildFilterChoices();
  applyUrlState(); // category and speaker choices exist now
  applyFilters();
  drawOverview();
  loadNarrationBasis();
}

main();
