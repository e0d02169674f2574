// The narration page: the user's own recording for each narration section of the script,
// uploaded (file picker or drag and drop) or recorded here, then stages 5-7 with them.
import { del, getJSON, mediaUrl, optional, postJSON, upload } from "./api.js";
import { announce, byId, el, say } from "./dom.js";
import * as fmt from "./format.js";
import { createMonitor } from "./monitor.js";
import { confirmDialog, dropTarget, plural } from "./widgets.js";

const episodeId = byId("main").dataset.episodeId;
const enc = encodeURIComponent(episodeId);
const ACCEPT = ".wav,.mp3,.m4a,.aac,.ogg,.flac,audio/*";
const CONTINUE_STAGES = [5, 6, 7];
// MediaRecorder types in order of preference, with the extension the server decodes them by.
const RECORDING_TYPES = [
  ["audio/ogg;codecs=opus", ".ogg"],
  ["audio/webm;codecs=opus", ".webm"],
  ["audio/webm", ".webm"],
  ["audio/mp4", ".m4a"],
];
const TYPE_WORDS = { intro: "intro", pre_clip: "before a clip", post_clip: "after a clip", outro: "outro" };

let sections = [];
const rows = new Map(); // section_id -> the row's parts
let monitor = null;
let recording = null; // {sectionId, recorder, stream, timer} while one section records

// ---------------------------------------------------------------------- rows
function lengthText(section) {
  const estimate = Number(section.estimated_duration);
  const parts = [];
  if (section.has_audio) parts.push(el("strong", { text: fmt.duration(section.duration) }));
  else parts.push(el("span", { class: "muted", text: "—" }));
  if (Number.isFinite(estimate) && estimate > 0) {
    parts.push(el("br"), el("span", { class: "muted small", text: `TTS estimate ${fmt.duration(estimate)}` }));
    if (section.has_audio) {
      const diff = Math.round(section.duration - estimate);
      if (Math.abs(diff) >= 1) {
        parts.push(el("br"), el("span", { class: "muted small", text: `${Math.abs(diff)} s ${diff > 0 ? "longer" : "shorter"}` }));
      }
    }
  }
  return parts;
}

function audioCell(section) {
  if (!section.has_audio || !section.audio_url) {
    return [el("span", { class: "badge missing-badge", text: "no audio yet" })];
  }
  const src = `${mediaUrl(episodeId, section.audio_url)}?v=${Date.now()}`;
  const tts = section.audio_source === "tts";
  const label = tts ? `Text-to-speech take for ${section.section_id}` : `Your recording for ${section.section_id}`;
  return [
    el("span", { class: "badge audio-source", dataset: { source: section.audio_source || "" },
      text: tts ? "text to speech" : "your recording" }),
    el("audio", { controls: true, preload: "metadata", src, attrs: { "aria-label": label } })];
}

function buildRow(section) {
  const id = section.section_id;
  const inputId = `file-${id}`;
  const fileInput = el("input", { type: "file", id: inputId, class: "visually-hidden file-input", accept: ACCEPT, dataset: { section: id } });
  const progress = el("progress", { max: 100, value: 0, hidden: true, attrs: { "aria-label": `Upload for ${id}` } });
  const error = el("p", { class: "field-error row-error", hidden: true, attrs: { role: "alert" } });
  const status = el("p", { class: "muted small row-status", hidden: true, attrs: { role: "status" } });
  const recordButton = el("button", { type: "button", class: "btn btn-small", text: "● Record", dataset: { record: id },
    attrs: { "aria-label": `Record ${id}` } });
  const deleteButton = el("button", { type: "button", class: "btn btn-small btn-danger", text: "Delete", dataset: { remove: id },
    attrs: { "aria-label": `Delete the recording of ${id}` } });
  const ttsButton = el("button", { type: "button", class: "btn btn-small", text: "Use the TTS take again", dataset: { tts: id },
    attrs: { "aria-label": `Use the text-to-speech take of ${id} again` } });
  const recorderBox = el("div", { class: "recorder", hidden: true });
  const zone = el("div", { class: "row-drop" },
    el("label", { class: "btn btn-small", attrs: { for: inputId } }, section.has_audio ? "Replace…" : "Upload…"),
    fileInput,
    el("span", { class: "muted small drop-hint", text: "or drop a file here" }));
  const parts = {
    section,
    tr: el("tr", { dataset: { section: id, hasAudio: String(section.has_audio) } }),
    length: el("td", { class: "num", dataset: { label: "Length" } }),
    audio: el("td", { class: "audio-cell", dataset: { label: "Audio" } }),
    zone, fileInput, progress, error, status, recordButton, deleteButton, ttsButton, recorderBox,
  };
  parts.tr.append(
    el("th", { scope: "row", dataset: { label: "Section" } },
      el("span", { class: "badge", text: TYPE_WORDS[section.section_type] || section.section_type }),
      el("span", { class: "section-id", text: id })),
    el("td", { class: "script-text", dataset: { label: "Text" } }, el("p", { text: section.script_content || "" })),
    parts.length, parts.audio,
    el("td", { class: "row-actions", dataset: { label: "Add or replace" } },
      zone,
      el("div", { class: "actions compact" }, recordButton, deleteButton, ttsButton),
      recorderBox, progress, status, error));
  dropTarget(zone, (files) => sendFile(id, files[0]));
  fileInput.addEventListener("change", () => {
    if (fileInput.files[0]) sendFile(id, fileInput.files[0]);
  });
  rows.set(id, parts);
  drawRow(parts);
  return parts.tr;
}

function drawRow(parts) {
  const s = parts.section;
  parts.tr.dataset.hasAudio = String(Boolean(s.has_audio));
  parts.length.replaceChildren(...lengthText(s));
  parts.audio.replaceChildren(...audioCell(s));
  parts.deleteButton.hidden = !s.has_audio;
  // An upload keeps the TTS take it replaced: offer it back while a recording stands in for it.
  parts.ttsButton.hidden = !(s.tts_take_url && s.audio_source === "recording");
  parts.zone.querySelector("label").textContent = s.has_audio ? "Replace…" : "Upload…";
  parts.recordButton.disabled = !recordingSupported() || Boolean(recording);
  parts.recordButton.title = recordingSupported() ? "" : recordingUnavailableReason();
}

function drawSummary() {
  const missing = sections.filter((s) => !s.has_audio);
  const summary = byId("audio-summary");
  const done = sections.length - missing.length;
  summary.replaceChildren(
    el("strong", { text: `${done} of ${plural(sections.length, "section")} ${done === 1 ? "has" : "have"} audio.` }),
    missing.length ? ` Still missing: ${missing.map((s) => s.section_id).join(", ")}.` : " Every section is ready.");
  const running = monitor && monitor.session && ["queued", "running"].includes(monitor.session.status);
  byId("continue").disabled = missing.length > 0 || sections.length === 0 || Boolean(running);
  byId("continue-note").textContent = missing.length
    ? `Record or upload ${plural(missing.length, "more section")} first.`
    : "Stages 5–7 level your recordings, cut the clips and put the video together.";
}

async function refreshSections(changedId = null) {
  const body = await getJSON(`/audio/api/${enc}/sections`);
  sections = body.sections || [];
  if (!rows.size || sections.length !== rows.size || sections.some((s) => !rows.has(s.section_id))) {
    rows.clear();
    byId("sections-body").replaceChildren(...sections.map(buildRow));
  } else {
    for (const section of sections) {
      const parts = rows.get(section.section_id);
      const changed = changedId === null || changedId === section.section_id
        || parts.section.has_audio !== section.has_audio || parts.section.duration !== section.duration
        || parts.section.audio_source !== section.audio_source;
      parts.section = section;
      if (changed) drawRow(parts);
    }
  }
  byId("sections-table").hidden = sections.length === 0;
  drawSummary();
}

// ---------------------------------------------------------------------- upload and delete
function rowMessage(parts, message, kind = "error") {
  say(parts.error, kind === "error" ? message : "");
  say(parts.status, kind === "error" ? "" : message, kind);
}

async function sendFile(sectionId, file) {
  const parts = rows.get(sectionId);
  if (!parts || !file) return;
  rowMessage(parts, "");
  const data = new FormData();
  data.append("file", file, file.name);
  parts.progress.hidden = false;
  parts.progress.value = 0;
  rowMessage(parts, `Uploading ${file.name}…`, "info");
  const job = upload(`/audio/api/${enc}/sections/${encodeURIComponent(sectionId)}`, data, (loaded, total) => {
    parts.progress.value = Math.round((loaded / total) * 100);
    if (loaded >= total) rowMessage(parts, "Checking and levelling the recording…", "info");
  });
  try {
    const answer = await job.promise;
    parts.fileInput.value = "";
    await refreshSections(sectionId);
    const words = `${sectionId}: recording saved (${fmt.duration(answer.duration)}).`;
    rowMessage(parts, words, "ok");
    announce(words);
  } catch (error) {
    parts.fileInput.value = "";
    const reason = { 413: "Too large", 415: "Not a usable audio file" }[error.status];
    rowMessage(parts, `${reason ? `${reason}: ` : ""}${error.message}`);
    announce(`${sectionId}: not saved. ${error.message}`);
  } finally {
    parts.progress.hidden = true;
  }
}

async function removeAudio(sectionId, button) {
  const parts = rows.get(sectionId);
  const yes = await confirmDialog({
    title: "Delete this recording?",
    message: `The recording for ${sectionId} will be deleted. You can record or upload another.`,
    confirmText: "Delete recording",
    danger: true,
  });
  if (!yes) {
    button.focus();
    return;
  }
  try {
    await del(`/audio/api/${enc}/sections/${encodeURIComponent(sectionId)}`);
    await refreshSections(sectionId);
    rowMessage(parts, `${sectionId}: recording deleted.`, "ok");
    announce(`Deleted the recording of ${sectionId}.`);
    parts.recordButton.focus();
  } catch (error) {
    rowMessage(parts, error.message);
  }
}

async function useTtsTake(sectionId) {
  const parts = rows.get(sectionId);
  try {
    const answer = await postJSON(`/audio/api/${enc}/sections/${encodeURIComponent(sectionId)}/tts`);
    await refreshSections(sectionId);
    const words = `${sectionId}: the text-to-speech take is back (${fmt.duration(answer.duration)}).`;
    rowMessage(parts, words, "ok");
    announce(words);
    parts.recordButton.focus();
  } catch (error) {
    rowMessage(parts, error.message);
  }
}

// ---------------------------------------------------------------------- recording
function recordingSupported() {
  return Boolean(window.MediaRecorder && navigator.mediaDevices?.getUserMedia && window.isSecureContext);
}

function recordingUnavailableReason() {
  if (!window.isSecureContext) return "Recording needs a secure page (https, or this computer's own address).";
  return "This browser cannot record audio.";
}

function recordingType() {
  const found = RECORDING_TYPES.find(([type]) => MediaRecorder.isTypeSupported(type));
  return found ? found[0] : "";
}

function extensionFor(mimeType) {
  const type = String(mimeType || "");
  return RECORDING_TYPES.find(([t]) => type.startsWith(t.split(";")[0]))?.[1] || ".webm";
}

function setRecordButtons() {
  for (const parts of rows.values()) parts.recordButton.disabled = !recordingSupported() || Boolean(recording);
}

async function startRecording(sectionId) {
  const parts = rows.get(sectionId);
  if (!parts || recording) return;
  rowMessage(parts, "");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    rowMessage(parts, `The microphone is not available: ${error.message || error.name}`);
    return;
  }
  const type = recordingType();
  const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
  const chunks = [];
  const started = Date.now();
  const clock = el("span", { class: "recording-clock", text: "0:00" });
  const stop = el("button", { type: "button", class: "btn btn-small btn-danger", text: "■ Stop" });
  recording = { sectionId, recorder, stream, timer: setInterval(() => {
    clock.textContent = fmt.duration((Date.now() - started) / 1000);
  }, 500) };
  setRecordButtons();
  recorder.addEventListener("dataavailable", (event) => {
    if (event.data.size) chunks.push(event.data);
  });
  recorder.addEventListener("stop", () => {
    clearInterval(recording.timer);
    for (const track of stream.getTracks()) track.stop();
    recording = null;
    setRecordButtons();
    reviewTake(parts, new Blob(chunks, { type: recorder.mimeType || type || "audio/webm" }));
  }, { once: true });
  stop.addEventListener("click", () => recorder.state !== "inactive" && recorder.stop());
  parts.recorderBox.replaceChildren(
    el("p", { class: "recording-live" }, el("span", { class: "rec-dot", attrs: { "aria-hidden": "true" } }), "Recording ", clock),
    el("div", { class: "actions compact" }, stop));
  parts.recorderBox.hidden = false;
  recorder.start(250);
  stop.focus();
  announce(`Recording ${sectionId}. Press Stop when you are done.`);
}

function reviewTake(parts, blob) {
  const id = parts.section.section_id;
  const address = URL.createObjectURL(blob);
  const close = () => {
    URL.revokeObjectURL(address);
    parts.recorderBox.replaceChildren();
    parts.recorderBox.hidden = true;
  };
  const keep = el("button", { type: "button", class: "btn btn-small btn-primary", text: "Keep" });
  const redo = el("button", { type: "button", class: "btn btn-small", text: "Redo" });
  const drop = el("button", { type: "button", class: "btn btn-small", text: "Discard" });
  keep.addEventListener("click", async () => {
    keep.disabled = true;
    close();
    await sendFile(id, new File([blob], `${id}${extensionFor(blob.type)}`, { type: blob.type }));
    parts.recordButton.focus();
  });
  redo.addEventListener("click", () => {
    close();
    startRecording(id);
  });
  drop.addEventListener("click", () => {
    close();
    parts.recordButton.focus();
  });
  parts.recorderBox.replaceChildren(
    el("p", { class: "small", text: "Listen to your take, then keep it or record again." }),
    el("audio", { controls: true, src: address, class: "take", dataset: { type: blob.type, file: `${id}${extensionFor(blob.type)}` },
      attrs: { "aria-label": `Your new take for ${id}` } }),
    el("div", { class: "actions compact" }, keep, redo, drop));
  parts.recorderBox.hidden = false;
  keep.focus();
  announce("Recording stopped. Listen, then keep it or redo it.");
}

// ---------------------------------------------------------------------- continue
async function showMonitor(sessionId) {
  const section = byId("audio-monitor");
  if (!monitor) {
    monitor = await createMonitor(section, { onFinish: () => refreshSections().catch(() => {}) });
  }
  section.hidden = false;
  if (monitor.sessionId !== sessionId) monitor.watch(sessionId);
}

async function continueRun() {
  const button = byId("continue");
  say(byId("continue-error"), "");
  button.disabled = true;
  try {
    const answer = await postJSON("/pipeline/execute", {
      episode_id: episodeId, selected_stages: CONTINUE_STAGES, audio_method: "manual",
    });
    await showMonitor(answer.session_id);
    const status = byId("continue-status");
    status.replaceChildren("Stages 5–7 are running with your recordings. ",
      el("a", { href: `/pipeline/?session=${encodeURIComponent(answer.session_id)}`, text: "Open this run on the pipeline page" }));
    status.hidden = false;
    announce("Stages 5 to 7 started with your recordings.");
    byId("audio-monitor").scrollIntoView({ behavior: "smooth", block: "start" });
  } catch (error) {
    say(byId("continue-error"), `The run did not start: ${error.message}`);
    drawSummary();
  }
}

// ---------------------------------------------------------------------- wiring
function noScript(message) {
  const node = byId("sections-error");
  node.replaceChildren(message, " ",
    el("a", { href: `/pipeline/?episode=${enc}&stages=4`, text: "Run stage 4 (Narrative Generation)" }));
  node.hidden = false;
  byId("audio-summary").textContent = "There is no script to narrate yet.";
}

async function main() {
  // A file dropped beside a drop zone must not replace the page with the file.
  for (const name of ["dragover", "drop"]) {
    document.addEventListener(name, (event) => {
      if (!event.target.closest?.(".row-drop")) event.preventDefault();
    });
  }
  byId("sections-body").addEventListener("click", (event) => {
    const record = event.target.closest("button[data-record]");
    if (record) startRecording(record.dataset.record);
    const remove = event.target.closest("button[data-remove]");
    if (remove) removeAudio(remove.dataset.remove, remove);
    const tts = event.target.closest("button[data-tts]");
    if (tts) useTtsTake(tts.dataset.tts);
  });
  byId("continue").addEventListener("click", continueRun);
  const episode = await optional(`/episodes/api/episodes/${enc}`);
  if (episode && !["complete", "running"].includes(episode.stages?.["4"])) {
    noScript("This episode has no script yet, so there is nothing to narrate.");
    return;
  }
  try {
    await refreshSections();
  } catch (error) {
    if (error.status === 404) noScript(error.message);
    else say(byId("sections-error"), `Could not load the sections: ${error.message}`);
    return;
  }
  const runs = await optional("/pipeline/sessions");
  const active = (runs?.sessions || []).find((s) => s.episode_id === episodeId && ["queued", "running"].includes(s.status));
  if (active) showMonitor(active.session_id).then(drawSummary);
}

main();
