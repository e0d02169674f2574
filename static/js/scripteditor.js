// The script editor page: sections in order, edited in place; clips trimmed and played; versions.
import { ApiError, getJSON, mediaUrl, postJSON, putJSON } from "./api.js";
import { announce, byId, el, say } from "./dom.js";
import * as fmt from "./format.js";
import { ScriptStore, isNarration } from "./scriptstore.js";

const main = byId("main");
const episodeId = main.dataset.episodeId;
const api = `/episodes/api/${encodeURIComponent(episodeId)}/script`;
const TYPE_LABELS = { intro: "Intro", pre_clip: "Set-up", post_clip: "Bridge", outro: "Outro", video_clip: "Clip" };
const NARRATION_TYPES = ["intro", "pre_clip", "post_clip", "outro"];

let store = null;
let active = null; // index of the section new ones go after
let playing = null; // {end, frame}
const picked = { anchor: null, focus: null }; // transcript word range (indices)

const seconds = (value) => `${Number(value).toFixed(1)} s`;
/** "1:02.3": minutes, seconds and tenths (cut, not rounded, so 3.45 reads 0:03.4). */
function clock(value) {
  const millis = Math.max(0, Math.round(Number(value) * 1000));
  return `${fmt.duration(Math.floor(millis / 1000))}.${Math.floor((millis % 1000) / 100)}`;
}

// ---------------------------------------------------------------------- sections
function sectionIndex(node) {
  const item = node.closest("li.script-section");
  return item ? Number(item.dataset.index) : null;
}

function refocus(index, selector) {
  const item = byId("script-sections").children[index];
  const target = item?.querySelector(selector) || item?.querySelector(".section-handle");
  target?.focus();
}

function moveSection(from, to, selector = ".section-handle") {
  const index = store.move(from, to);
  active = index;
  renderSections();
  refocus(index, selector);
  announce(`Section moved to position ${index + 1} of ${store.sections.length}.`);
}

function typeControl(section, index) {
  if (!isNarration(section)) return el("span", { class: "section-type", text: TYPE_LABELS.video_clip });
  const select = el("select", {
    class: "section-type-select", attrs: { "aria-label": `Kind of section ${index + 1}` },
    on: { change: () => store.setField(index, "section_type", select.value) },
  }, NARRATION_TYPES.map((t) => el("option", { value: t, text: TYPE_LABELS[t], selected: t === section.section_type })));
  return select;
}

function sectionHead(section, index) {
  const count = store.sections.length;
  return el("div", { class: "section-head" },
    el("span", {
      class: "section-handle", text: "⠿", draggable: true,
      attrs: { role: "button", tabindex: "0", "aria-label": `Move section ${index + 1} (↑/↓)`, title: "Drag to move; ↑/↓ or Alt+↑/↓" },
      on: { keydown: (event) => handleKeys(event, index) },
    }),
    el("span", { class: "section-number", text: String(index + 1) }),
    typeControl(section, index),
    el("span", { class: "section-id muted", text: section.section_id }),
    el("span", { class: "section-seconds", dataset: { role: "seconds" }, text: seconds(store.sectionSeconds(section)) }),
    el("span", { class: "section-tools" },
      el("button", { type: "button", class: "btn btn-small move-up", text: "↑", disabled: index === 0,
        attrs: { "aria-label": `Move section ${index + 1} up` }, on: { click: () => moveSection(index, index - 1, ".move-up") } }),
      el("button", { type: "button", class: "btn btn-small move-down", text: "↓", disabled: index === count - 1,
        attrs: { "aria-label": `Move section ${index + 1} down` }, on: { click: () => moveSection(index, index + 1, ".move-down") } }),
      el("button", { type: "button", class: "btn btn-small btn-danger", text: "Remove",
        attrs: { "aria-label": `Remove section ${index + 1}` }, on: { click: () => removeSection(index) } })));
}

/** On the handle, ↑ and ↓ alone move the section (Alt+↑/↓ works anywhere in it). */
function handleKeys(event, index) {
  if (event.altKey || !["ArrowUp", "ArrowDown"].includes(event.key)) return;
  event.preventDefault();
  event.stopPropagation();
  moveSection(index, index + (event.key === "ArrowUp" ? -1 : 1));
}

function removeSection(index) {
  const removed = store.remove(index);
  active = Math.min(index, store.sections.length - 1);
  renderSections();
  refocus(Math.max(0, index - 1), ".section-handle");
  announce(`Removed ${removed.section_id}.`);
}

function narrationBody(section, index) {
  const text = el("textarea", {
    class: "narration-text", rows: 3, value: section.script_content || "",
    attrs: { "aria-label": `Narration of section ${index + 1}` },
    on: { input: () => { store.setText(index, text.value); updateLengths(); } },
  });
  return text;
}

function edgeControls(index, edge) {
  const clip = store.sections[index];
  const label = edge === "start" ? "In" : "Out";
  const value = el("output", { class: "edge-time", dataset: { edge }, text: clock(edge === "start" ? clip.start_time : clip.end_time) });
  const step = (delta) => el("button", {
    type: "button", class: "btn btn-small", text: `${delta > 0 ? "+" : "−"}${Math.abs(delta)}`,
    dataset: { edge, delta: String(delta) },
    attrs: { "aria-label": `${label} point ${delta > 0 ? "later" : "earlier"} by ${Math.abs(delta)} s` },
    on: { click: () => { store.nudge(index, edge, delta); updateClip(index); } },
  });
  return el("div", { class: "edge" },
    el("span", { class: "edge-label", text: label }), value,
    step(-1), step(-0.1), step(0.1), step(1),
    el("button", { type: "button", class: "btn btn-small", text: "Snap", dataset: { edge, snap: "" },
      attrs: { "aria-label": `Snap the ${label.toLowerCase()} point to a word border` },
      on: { click: () => { store.snap(index, edge); updateClip(index); } } }));
}

function clipBody(section, index) {
  const title = el("input", {
    type: "text", class: "clip-title", value: section.title || "", attrs: { "aria-label": `Title of clip ${section.clip_id}` },
    on: { input: () => store.setField(index, "title", title.value) },
  });
  return el("div", { class: "clip-body" }, title,
    el("div", { class: "clip-edges" }, edgeControls(index, "start"), edgeControls(index, "end")),
    el("button", { type: "button", class: "btn btn-small play-range", text: "▶ Play range",
      attrs: { "aria-label": `Play clip ${section.clip_id}` }, on: { click: () => playRange(index) } }));
}

function updateClip(index) {
  const item = byId("script-sections").children[index];
  const clip = store.sections[index];
  item.querySelector('[data-edge="start"].edge-time').textContent = clock(clip.start_time);
  item.querySelector('[data-edge="end"].edge-time').textContent = clock(clip.end_time);
  updateLengths();
}

function dragHandlers(item) {
  item.addEventListener("dragstart", (event) => {
    if (!event.target.matches?.(".section-handle")) return;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.index);
    event.dataTransfer.setDragImage(item, 16, 16);
    item.classList.add("dragging");
  });
  item.addEventListener("dragend", () => item.classList.remove("dragging"));
  item.addEventListener("dragover", (event) => { event.preventDefault(); item.classList.add("drop-target"); });
  item.addEventListener("dragleave", () => item.classList.remove("drop-target"));
  item.addEventListener("drop", (event) => {
    event.preventDefault();
    item.classList.remove("drop-target");
    const from = Number(event.dataTransfer.getData("text/plain"));
    if (Number.isInteger(from)) moveSection(from, Number(item.dataset.index));
  });
}

function sectionItem(section, index) {
  const item = el("li", {
    class: `script-section ${isNarration(section) ? "is-narration" : "is-clip"}`,
    dataset: { index: String(index), sectionId: section.section_id },
    on: {
      focusin: () => { active = index; showWhere(); },
      keydown: (event) => {
        if (!event.altKey || !["ArrowUp", "ArrowDown"].includes(event.key)) return;
        event.preventDefault();
        const selector = event.target.matches("textarea") ? "textarea" : ".section-handle";
        moveSection(index, index + (event.key === "ArrowUp" ? -1 : 1), selector);
      },
    },
  }, sectionHead(section, index), isNarration(section) ? narrationBody(section, index) : clipBody(section, index));
  dragHandlers(item);
  return item;
}

function renderSections() {
  byId("script-sections").replaceChildren(...store.sections.map(sectionItem));
  showWhere();
  updateLengths();
}

function showWhere() {
  byId("add-where").textContent = active === null || active >= store.sections.length
    ? "New sections go at the end."
    : `New sections go after section ${active + 1}.`;
}

const insertAt = () => (active === null ? null : active + 1);

function added(index, what) {
  active = index;
  renderSections();
  refocus(index, isNarration(store.sections[index]) ? "textarea" : ".clip-title");
  announce(`${what} added as section ${index + 1}.`);
}

// ---------------------------------------------------------------------- lengths
function updateLengths() {
  const { sections, total, target, over } = store.lengths();
  const items = byId("script-sections").children;
  sections.forEach((value, i) => {
    const node = items[i]?.querySelector('[data-role="seconds"]');
    if (node) node.textContent = seconds(value);
  });
  byId("length-total").textContent = target
    ? `${clock(total)} of ${clock(target)} target`
    : `${clock(total)} (no target)`;
  const meter = byId("length-meter");
  meter.max = Math.max(target, total, 1);
  meter.value = total;
  meter.high = target || meter.max;
  const pad = Number(store.context.pad_seconds) || 0;
  byId("length-detail").textContent = `${over > 0 ? `${seconds(over)} over` : `${seconds(-over)} to spare`} · `
    + `narration at ${store.wordsPerMinute} words a minute, ${pad} s pause each`;
  byId("length-total").dataset.over = over > 0 ? "true" : "false";
}

// ---------------------------------------------------------------------- player
function stopWatching() {
  if (playing) cancelAnimationFrame(playing.frame);
  playing = null;
}

function watchEnd(player, end) {
  const tick = () => {
    if (player.currentTime >= end) {
      player.pause();
      player.currentTime = end;
      stopWatching();
      return;
    }
    playing.frame = requestAnimationFrame(tick);
  };
  playing = { end, frame: requestAnimationFrame(tick) };
}

async function playRange(index) {
  const clip = store.sections[index];
  const player = byId("range-player");
  stopWatching();
  byId("player-range").textContent = `${clip.title}: ${clock(clip.start_time)} – ${clock(clip.end_time)}`;
  player.dataset.start = String(clip.start_time);
  player.dataset.end = String(clip.end_time);
  player.currentTime = clip.start_time;
  try {
    await player.play();
    watchEnd(player, clip.end_time);
  } catch (problem) {
    byId("player-range").textContent = `Cannot play the source: ${problem.message}`;
  }
}

// ---------------------------------------------------------------------- transcript
function markPicked() {
  const box = byId("script-transcript");
  box.querySelectorAll(".picked").forEach((n) => n.classList.remove("picked"));
  const button = byId("add-words-clip");
  if (picked.anchor === null) {
    button.disabled = true;
    button.textContent = "Add as clip";
    return;
  }
  const lo = Math.min(picked.anchor, picked.focus);
  const hi = Math.max(picked.anchor, picked.focus);
  for (let i = lo; i <= hi; i += 1) box.querySelector(`[data-word="${i}"]`)?.classList.add("picked");
  const range = store.wordRange(lo, hi);
  button.disabled = !range;
  button.textContent = range ? `Add as clip (${clock(range.start)}–${clock(range.end)})` : "Add as clip";
}

function wordOf(node) {
  const element = node?.nodeType === Node.TEXT_NODE ? node.parentElement : node;
  const word = element?.closest?.("[data-word]");
  return word ? Number(word.dataset.word) : null;
}

function readSelection() {
  const selection = document.getSelection();
  const box = byId("script-transcript");
  if (!selection || selection.isCollapsed || !box.contains(selection.anchorNode)) return;
  const words = [...box.querySelectorAll("[data-word]")].filter((n) => selection.containsNode(n, true));
  if (!words.length) return;
  picked.anchor = Number(words[0].dataset.word);
  picked.focus = Number(words[words.length - 1].dataset.word);
  markPicked();
}

function transcriptKeys(event) {
  const last = store.words.length - 1;
  if (event.key === "Enter" && picked.anchor !== null) {
    event.preventDefault();
    addPickedWords();
    return;
  }
  if (!["ArrowLeft", "ArrowRight"].includes(event.key) || last < 0) return;
  event.preventDefault();
  const step = event.key === "ArrowRight" ? 1 : -1;
  const focus = picked.focus === null ? 0 : Math.max(0, Math.min(last, picked.focus + step));
  picked.focus = focus;
  if (!event.shiftKey || picked.anchor === null) picked.anchor = focus;
  markPicked();
  byId("script-transcript").querySelector(`[data-word="${focus}"]`)?.scrollIntoView({ block: "nearest" });
}

function addPickedWords() {
  const index = store.addWordsClip(insertAt(), picked.anchor, picked.focus);
  if (index === null) return;
  picked.anchor = picked.focus = null;
  markPicked();
  added(index, "Clip from the transcript");
}

function renderTranscript() {
  const box = byId("script-transcript");
  const byLine = new Map();
  for (const word of store.words) {
    const line = Math.floor(word.start / 30); // a paragraph per half minute
    if (!byLine.has(line)) byLine.set(line, []);
    byLine.get(line).push(word);
  }
  const paragraphs = [...byLine.values()].map((words) => el("p", {},
    el("span", { class: "transcript-time muted", text: fmt.duration(words[0].start) }), " ",
    words.flatMap((w) => [el("span", { class: "word", dataset: { word: String(w.index) }, text: w.word }), " "])));
  box.replaceChildren(...(paragraphs.length ? paragraphs : [el("p", { class: "empty", text: "No transcript yet (stage 2)." })]));
}

// ---------------------------------------------------------------------- versions and saving
async function loadVersions() {
  const { versions } = await getJSON(`${api}/versions`);
  const list = byId("script-versions");
  list.replaceChildren(...versions.map((v) => el("li", { class: "version-row", dataset: { version: String(v.version) } },
    el("span", { class: "version-name", text: `Version ${v.version}` }),
    el("span", { class: "muted", text: ` ${fmt.dateTime(v.saved_at)}` }),
    v.note ? el("span", { class: "version-note", text: v.note }) : null,
    v.current
      ? el("span", { class: "badge", text: "current" })
      : el("button", { type: "button", class: "btn btn-small", text: "Go back to this",
        attrs: { "aria-label": `Go back to version ${v.version}` }, on: { click: () => restore(v.version) } }))));
  if (!versions.length) list.replaceChildren(el("li", { class: "empty", text: "Not saved in the editor yet." }));
}

function showErrors(title, problems) {
  const box = byId("save-errors");
  byId("save-error-title").textContent = title;
  byId("save-error-list").replaceChildren(...problems.map((p) => el("li", { text: p })));
  box.hidden = !title;
}

function track(next) {
  store = next;
  store.onChange = () => say(byId("script-status"), "Unsaved changes: save to keep them as a new version.", "info");
}

function loaded(script, note) {
  track(new ScriptStore(script, store.context));
  active = null;
  renderSections();
  say(byId("script-status"), note, "ok");
  announce(note);
}

async function restore(number) {
  try {
    const script = await postJSON(`${api}/versions/${number}/restore`);
    showErrors("", []);
    loaded(script, `Back to version ${number}: saved as version ${script.version}.`);
    await loadVersions();
  } catch (problem) {
    showErrors(problem.message, []);
  }
}

async function save(event) {
  event.preventDefault();
  const local = store.problems();
  if (local.length) {
    showErrors("Fix these before saving:", local);
    return;
  }
  const button = byId("save-script");
  button.disabled = true;
  try {
    const script = await putJSON(api, store.toScript(byId("save-note").value.trim()));
    showErrors("", []);
    byId("save-note").value = "";
    loaded(script, `Saved as version ${script.version}.`);
    await loadVersions();
  } catch (problem) {
    const list = problem instanceof ApiError && problem.body?.errors?.length ? problem.body.errors : [];
    showErrors(list.length ? "The script was not saved:" : problem.message, list);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------- start
function fillSegments(segments) {
  const select = byId("add-segment");
  select.replaceChildren(...segments.map((s, i) => el("option", {
    value: String(i), text: `${clock(s.start_time)}–${clock(s.end_time)} · ${s.title}`,
  })));
  select.disabled = byId("add-segment-clip").disabled = !segments.length;
  if (!segments.length) select.append(el("option", { text: "No analysed segments (stage 3)" }));
}

function wire(context) {
  byId("save-form").addEventListener("submit", save);
  byId("add-narration").addEventListener("click", () => added(store.addNarration(insertAt()), "Narration"));
  byId("add-segment-clip").addEventListener("click", () => {
    const segment = context.segments[Number(byId("add-segment").value)];
    if (segment) added(store.addSegmentClip(insertAt(), segment), "Clip");
  });
  byId("add-words-clip").addEventListener("click", addPickedWords);
  const box = byId("script-transcript");
  box.addEventListener("mouseup", readSelection);
  box.addEventListener("keyup", (event) => { if (event.shiftKey && !event.key.startsWith("Arrow")) readSelection(); });
  box.addEventListener("keydown", transcriptKeys);
  byId("range-player").addEventListener("pause", stopWatching);
}

async function start() {
  let script;
  let context;
  try {
    [script, context] = await Promise.all([getJSON(api), getJSON(`${api}/context`)]);
  } catch (problem) {
    say(byId("script-empty"), problem.status === 404 ? "No script yet: run stage 4 (Narrative) first." : problem.message, "info");
    return;
  }
  track(new ScriptStore(script, context));
  byId("script-layout").hidden = false;
  window.addEventListener("beforeunload", (event) => {
    if (store.dirty) event.preventDefault();
  });
  if (context.media) byId("range-player").src = mediaUrl(episodeId, context.media);
  fillSegments(context.segments);
  renderTranscript();
  renderSections();
  wire(context);
  say(byId("script-status"), script.version ? `Version ${script.version}.` : "Written by stage 4; not saved in the editor yet.", "ok");
  await loadVersions();
}

start();
