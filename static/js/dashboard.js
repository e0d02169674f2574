// The dashboard: new episodes (URL or upload), the episodes table, recent runs, system, presets.
import { del, getJSON, isActive, loadStages, optional, postJSON, upload } from "./api.js";
import { announce, byId, debounce, el, say } from "./dom.js";
import * as fmt from "./format.js";
import { on } from "./socket.js";
import { previewCard, probeUrl } from "./urlpreview.js";
import { confirmDialog, sessionDuration, stageChips, stageList, statusBadge } from "./widgets.js";

let stages = [];
let episodesById = new Map();

// ---------------------------------------------------------------------- episodes table
/** An episode's name in a list: the server's display_title tells same-titled episodes apart. */
const label = (episode) => episode.display_title || episode.title || episode.episode_id;

function sourceCell(episode) {
  if (episode.source_kind === "upload") return el("span", { class: "muted", text: "Uploaded file" });
  return el("span", { class: "source-url", title: episode.source, text: episode.source });
}

function lastRunCell(session) {
  if (!session) return el("span", { class: "muted", text: "Never run" });
  return el("a", { class: "last-run", href: `/pipeline/?session=${encodeURIComponent(session.session_id)}` },
    statusBadge(session.status), " ", el("span", { class: "muted", text: fmt.ago(session.created_at) }));
}

/** Links to the segment picker (once analysed) and the narration page (once scripted). */
function curationLinks(episode) {
  const id = encodeURIComponent(episode.episode_id);
  const name = label(episode);
  return [
    episode.stages?.["3"] === "complete" ? el("a", { class: "btn btn-small", href: `/segments/episode/${id}`, text: "Segments",
      attrs: { "aria-label": `Choose the segments of ${name}` } }) : null,
    episode.stages?.["4"] === "complete" ? el("a", { class: "btn btn-small", href: `/audio/${id}`, text: "Narration",
      attrs: { "aria-label": `Record or upload the narration of ${name}` } }) : null,
  ];
}

function episodeRow(episode) {
  const id = encodeURIComponent(episode.episode_id);
  const rowError = el("p", { class: "field-error", hidden: true, attrs: { role: "alert" } });
  const deleteButton = el("button", {
    type: "button", class: "btn btn-small btn-danger", text: "Delete",
    attrs: { "aria-label": `Delete ${label(episode)}` },
  });
  deleteButton.addEventListener("click", () => deleteEpisode(episode, deleteButton, rowError));
  return el("tr", { dataset: { episode: episode.episode_id } },
    el("td", { dataset: { label: "Title" } },
      el("a", { class: "episode-link", href: `/episodes/${id}`, text: label(episode) })),
    el("td", { dataset: { label: "Source" }, class: "cell-source" }, sourceCell(episode)),
    el("td", { dataset: { label: "Duration" }, class: "num", text: fmt.duration(episode.duration) }),
    el("td", { dataset: { label: "Stages" } }, stageChips(stages, episode.stages)),
    el("td", { dataset: { label: "Last run" } }, lastRunCell(episode.last_session)),
    el("td", { dataset: { label: "Actions" }, class: "cell-actions" },
      el("div", { class: "actions" },
        el("a", { class: "btn btn-small", href: `/episodes/${id}`, text: "Open", attrs: { "aria-label": `Open ${label(episode)}` } }),
        el("a", { class: "btn btn-small", href: `/pipeline/?episode=${id}`, text: "Run", attrs: { "aria-label": `Run stages on ${label(episode)}` } }),
        curationLinks(episode),
        deleteButton),
      rowError));
}

async function loadEpisodes() {
  const status = byId("episodes-status");
  try {
    const body = await getJSON("/episodes/api/episodes");
    episodesById = new Map(body.episodes.map((e) => [e.episode_id, e]));
    byId("episodes-body").replaceChildren(...body.episodes.map(episodeRow));
    byId("episodes-empty").hidden = body.episodes.length > 0;
    say(byId("episodes-error"), "");
    status.textContent = `${body.episodes.length} episode${body.episodes.length === 1 ? "" : "s"}`;
  } catch (error) {
    say(byId("episodes-error"), `Could not load the episodes: ${error.message}`);
  }
}

async function deleteEpisode(episode, button, rowError) {
  const name = label(episode);
  const yes = await confirmDialog({
    title: "Delete this episode?",
    message: `“${name}” and every file made from it (video, transcript, script, audio, clips, final video) will be deleted. This cannot be undone.`,
    confirmText: "Delete episode",
    danger: true,
  });
  if (!yes) {
    button.focus();
    return;
  }
  button.disabled = true;
  try {
    await del(`/episodes/api/episodes/${encodeURIComponent(episode.episode_id)}`);
    announce(`Deleted ${name}.`);
    await loadEpisodes();
    byId("episodes-title").focus();
  } catch (error) {
    say(rowError, error.message);
    button.disabled = false;
    button.focus();
  }
}

// ---------------------------------------------------------------------- new episode
function showCreated(episode, how) {
  const result = byId("new-result");
  const id = encodeURIComponent(episode.episode_id);
  result.replaceChildren(
    `${how} “${label(episode)}”. `,
    el("a", { href: `/episodes/${id}`, text: "Open the episode" }), " or ",
    el("a", { href: `/pipeline/?episode=${id}`, text: "run the pipeline on it" }), ".");
  result.hidden = false;
  announce(`${how} ${label(episode)}.`);
}

function setFieldError(input, node, message) {
  say(node, message);
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

/** `{title}` to create a URL's episode with when the probe knew a real title, else `{}`. */
function probedTitle(answer, url) {
  const title = typeof answer?.title === "string" ? answer.title.trim().slice(0, 200).trim() : "";
  return title && title !== url && title !== answer.url ? { title } : {};
}

function initUrlForm() {
  const form = byId("url-form");
  const input = byId("new-url");
  const error = byId("new-url-error");
  const preview = byId("url-preview");
  const button = byId("url-submit");
  let previewed = null; // the URL the preview shows: the next submit adds it
  let answerShown = null; // the probe's answer for `previewed`
  const reset = () => {
    previewed = null;
    answerShown = null;
    preview.hidden = true;
    preview.replaceChildren();
    button.textContent = "Preview";
  };
  input.addEventListener("input", () => { setFieldError(input, error, ""); reset(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const url = input.value.trim();
    if (!url) {
      setFieldError(input, error, "Enter the address of a video, starting with https://");
      input.focus();
      return;
    }
    button.disabled = true;
    try {
      if (previewed !== url) {
        button.textContent = "Checking…";
        const answer = await probeUrl(url);
        previewed = url;
        answerShown = answer;
        preview.replaceChildren(previewCard(answer));
        preview.hidden = false;
        announce(`Found ${answer.title}. Choose Add episode to add it.`);
        return;
      }
      const episode = await postJSON("/episodes/api/episodes", { url, ...probedTitle(answerShown, url) });
      setFieldError(input, error, "");
      input.value = "";
      showCreated(episode, "Added");
      await loadEpisodes();
    } catch (problem) {
      setFieldError(input, error, problem.message);
      input.focus();
    } finally {
      button.disabled = false;
      button.textContent = previewed === url && input.value ? "Add episode" : "Preview";
      if (!input.value) reset();
    }
  });
}

// Video and audio-only types (services/pipeline/episode_store.py MEDIA_DEMUXERS).
const VIDEO_EXTENSIONS = [".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".flv", ".ts", ".mpg", ".mpeg",
  ".mp3", ".m4a", ".aac", ".wav", ".ogg", ".oga", ".opus", ".flac"];

function extensionOf(name) {
  const dot = name.lastIndexOf(".");
  return dot >= 0 ? name.slice(dot).toLowerCase() : "";
}

function looksLikeVideo(file) {
  if (file.type) return /^(video|audio)\//.test(file.type) || VIDEO_EXTENSIONS.includes(extensionOf(file.name));
  return VIDEO_EXTENSIONS.includes(extensionOf(file.name));
}

function initUploadForm() {
  const form = byId("upload-form");
  const fileInput = byId("upload-file");
  const subtitlesInput = byId("upload-subtitles");
  const zone = byId("drop-zone");
  const bar = byId("upload-progress");
  const barText = byId("upload-progress-text");
  const error = byId("upload-error");
  const button = byId("upload-button");
  const cancel = byId("upload-cancel");
  let current = null;

  fileInput.addEventListener("change", () => setFieldError(fileInput, error, ""));
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("is-over");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    zone.addEventListener(name, () => zone.classList.remove("is-over"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    const files = [...(event.dataTransfer?.files || [])];
    const subtitles = files.find((f) => [".vtt", ".srt"].includes(extensionOf(f.name)));
    const video = files.find((f) => f !== subtitles);
    if (video) {
      const list = new DataTransfer();
      list.items.add(video);
      fileInput.files = list.files;
    }
    if (subtitles) {
      const list = new DataTransfer();
      list.items.add(subtitles);
      subtitlesInput.files = list.files;
    }
    setFieldError(fileInput, error, "");
    announce(`Chosen: ${[video?.name, subtitles?.name].filter(Boolean).join(" and ")}`);
  });

  cancel.addEventListener("click", () => current?.abort());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = fileInput.files[0];
    if (!file) {
      setFieldError(fileInput, error, "Choose a video file first (or drop one on the box).");
      fileInput.focus();
      return;
    }
    if (!looksLikeVideo(file)) {
      setFieldError(fileInput, error,
        `“${file.name}” is not a video or audio file (${file.type || "unknown type"}). Choose an ${VIDEO_EXTENSIONS.join(", ")} file.`);
      fileInput.focus();
      return;
    }
    const subtitles = subtitlesInput.files[0];
    if (subtitles && ![".vtt", ".srt"].includes(extensionOf(subtitles.name))) {
      setFieldError(subtitlesInput, error, `“${subtitles.name}” is not a subtitle file: choose a .vtt or .srt file.`);
      subtitlesInput.focus();
      return;
    }
    const data = new FormData();
    data.append("file", file);
    if (subtitles) data.append("subtitles", subtitles);
    setFieldError(fileInput, error, "");
    button.disabled = true;
    cancel.hidden = false;
    bar.value = 0;
    barText.textContent = `Uploading ${file.name}…`;
    current = upload("/episodes/api/episodes", data, (loaded, total) => {
      bar.value = Math.round((loaded / total) * 100);
      barText.textContent = `${fmt.bytes(loaded)} of ${fmt.bytes(total)} (${fmt.percent(bar.value)})`;
      if (loaded >= total) barText.textContent = "Checking the video…";
    });
    try {
      const episode = await current.promise;
      bar.value = 100;
      barText.textContent = `Uploaded ${file.name}`;
      fileInput.value = "";
      subtitlesInput.value = "";
      showCreated(episode, "Uploaded");
      await loadEpisodes();
    } catch (problem) {
      barText.textContent = "Upload stopped";
      bar.value = 0;
      const input = problem.field === "subtitles" ? subtitlesInput : fileInput;
      setFieldError(input, error, problem.message);
    } finally {
      current = null;
      button.disabled = false;
      cancel.hidden = true;
    }
  });
}

// ---------------------------------------------------------------------- recent runs
function sessionItem(session) {
  const episode = episodesById.get(session.episode_id);
  const progress = el("span", { class: "session-progress muted", text: isActive(session.status) ? fmt.percent(session.overall_progress) : "" });
  return el("li", { class: "session-item", dataset: { session: session.session_id } },
    statusBadge(session.status),
    el("div", { class: "session-main" },
      el("a", { href: `/pipeline/?session=${encodeURIComponent(session.session_id)}`, text: episode ? label(episode) : `Episode ${session.episode_id}` }),
      el("span", { class: "muted", text: ` · stages ${stageList(session.selected_stages)} · ${fmt.ago(session.created_at)} · ${sessionDuration(session)}` })),
    progress);
}

async function loadSessions() {
  try {
    const body = await getJSON("/pipeline/sessions");
    const recent = body.sessions.slice(0, 12);
    byId("sessions-list").replaceChildren(...recent.map(sessionItem));
    byId("sessions-empty").hidden = recent.length > 0;
    say(byId("sessions-error"), "");
  } catch (error) {
    say(byId("sessions-error"), `Could not load the runs: ${error.message}`);
  }
}

// ---------------------------------------------------------------------- system and presets
async function loadSystem() {
  const body = byId("system-body");
  try {
    const info = await getJSON("/api/system");
    const tools = el("ul", { class: "kv-list" }, info.tools.map((tool) => el("li", { dataset: { ok: String(tool.found) } },
      el("span", { class: "kv-key", text: tool.name }),
      el("span", { class: tool.found ? "" : "is-error", text: tool.found ? tool.version || "found" : "not found" }))));
    const engines = el("ul", { class: "kv-list" }, Object.entries(info.engines).map(([kind, list]) => el("li", {},
      el("span", { class: "kv-key", text: kind }),
      el("span", {}, list.map((engine, i) => [i ? ", " : "",
        el("span", { class: engine.available ? "" : "muted", title: engine.available ? engine.description || "" : engine.reason || "",
          text: engine.available ? engine.name : `${engine.name} (unavailable)` })])))));
    const disk = info.disk
      ? el("p", { text: `Free disk space for data: ${fmt.bytes(info.disk.free_bytes)} of ${fmt.bytes(info.disk.total_bytes)}` })
      : null;
    body.replaceChildren(el("h3", { text: "Tools" }), tools, el("h3", { text: "Engines" }), engines, disk);
  } catch (error) {
    body.replaceChildren(el("p", { class: "field-error", text: `Could not read the system report: ${error.message}` }));
  }
}

async function loadPresets() {
  const body = await optional("/presets/api/presets");
  if (!body || !Array.isArray(body.presets)) return; // presets API not available yet
  const list = byId("preset-list");
  list.replaceChildren(...body.presets.map((preset) => el("li", { class: "preset" },
    el("div", {},
      el("strong", { text: preset.name }), " ",
      el("span", { class: "badge", dataset: { status: preset.category }, text: preset.category }),
      preset.description ? el("p", { class: "muted", text: preset.description }) : null),
    el("a", { class: "btn btn-small", href: `/pipeline/?preset=${encodeURIComponent(preset.id)}`, text: "Use",
      attrs: { "aria-label": `Use preset ${preset.name}` } }))));
  byId("presets-panel").hidden = body.presets.length === 0;
}

// ---------------------------------------------------------------------- live refresh
function listenLive() {
  const refresh = debounce(() => {
    loadEpisodes().then(loadSessions);
  }, 400);
  for (const name of ["pipeline_transition", "pipeline_completion", "pipeline_error"]) on(name, refresh);
  on("pipeline_progress", (p) => {
    const item = document.querySelector(`li[data-session="${CSS.escape(p.session_id)}"] .session-progress`);
    if (item) item.textContent = fmt.percent(p.overall_progress);
    else refresh();
  });
}

async function main() {
  initUrlForm();
  initUploadForm();
  try {
    stages = await loadStages();
  } catch (error) {
    say(byId("episodes-error"), `Could not load the stage list: ${error.message}`);
  }
  await loadEpisodes();
  await Promise.all([loadSessions(), loadSystem(), loadPresets()]);
  listenLive();
}

main();
