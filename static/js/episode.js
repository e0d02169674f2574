// The episode page: every artifact with a player or viewer, the live run, and the run history.
import { del, episodeFileUrl, getJSON, isActive, loadStages, mediaUrl, optional, request } from "./api.js";
import { announce, byId, debounce, el, fieldError, say } from "./dom.js";
import * as fmt from "./format.js";
import { LogConsole } from "./logconsole.js";
import { createMonitor } from "./monitor.js";
import { on } from "./socket.js";
import { confirmDialog, sessionDuration, stageChips, stageList, statusBadge } from "./widgets.js";

const episodeId = byId("main").dataset.episodeId;
const SPEAKER_COLOURS = 8;

let stages = [];
let episode = null;
let script = null;
let monitor = null;
const shown = new Map(); // artifact key -> the state it was last drawn in

// ---------------------------------------------------------------------- helpers
function producerOf(key) {
  return stages.find((s) => s.outputs.includes(key)) ?? null;
}

function stateOf(key) {
  const stage = producerOf(key);
  return stage ? episode.stages[String(stage.number)] || "missing" : "missing";
}

/** The URL of one of this episode's files (the paths come with the episode's JSON). */
function fileUrl(key, parts = {}) {
  return episodeFileUrl(episode, key, parts);
}

function bodyOf(key) {
  return document.querySelector(`[data-artifact="${key}"]`);
}

function notMade(key, extra = null) {
  const stage = producerOf(key);
  const state = stateOf(key);
  if (!stage) return el("p", { class: "missing", text: "Not yet made." });
  const runLink = el("a", {
    class: "btn btn-small", href: `/pipeline/?episode=${encodeURIComponent(episodeId)}&stages=${stage.number}`,
    text: `Run stage ${stage.number}`,
  });
  const words = state === "running"
    ? `Being made now: stage ${stage.number} (${stage.name}) is running.`
    : state === "failed"
      ? `Not yet made — stage ${stage.number} (${stage.name}) failed last time; run stage ${stage.number} again.`
      : `Not yet made — run stage ${stage.number} (${stage.name}).`;
  return el("div", { class: "missing" }, el("p", { text: words }), extra, state === "running" ? null : runLink);
}

function sourceVideo() {
  return document.getElementById("source-video");
}

function seek(seconds) {
  const video = sourceVideo();
  if (!video) {
    announce("The source video is not available to play.");
    return;
  }
  video.currentTime = Math.max(0, Number(seconds) || 0);
  video.play().catch(() => {});
  video.scrollIntoView({ behavior: "smooth", block: "nearest" });
}

function seekButton(seconds, label = null) {
  return el("button", {
    type: "button", class: "ts", text: fmt.duration(seconds), dataset: { seek: String(seconds) },
    attrs: { "aria-label": label || `Play the source from ${fmt.duration(seconds)}` },
  });
}

function failed(body, what, error) {
  body.replaceChildren(el("p", { class: "field-error", text: `Could not read the ${what}: ${error.message}` }));
}

// ---------------------------------------------------------------------- artifacts
function drawSource() {
  const body = bodyOf("original_video");
  if (stateOf("original_video") === "complete") {
    body.replaceChildren(el("div", { class: "video-frame" },
      el("video", { id: "source-video", controls: true, preload: "metadata", src: fileUrl("original_video") })));
  } else if (episode.source_kind === "upload" && episode.source) {
    body.replaceChildren(
      el("div", { class: "video-frame" },
        el("video", { id: "source-video", controls: true, preload: "metadata", src: mediaUrl(episodeId, episode.source) })),
      el("p", { class: "muted small", text: "The uploaded file. Stage 1 makes the working copy the other stages use." }));
  } else {
    body.replaceChildren(notMade("original_video"));
  }
}

function transcriptRows(data) {
  const rows = Array.isArray(data) ? data : data?.segments;
  return (Array.isArray(rows) ? rows : []).filter((r) => r && typeof r.text === "string");
}

async function drawTranscript() {
  const body = bodyOf("transcript");
  if (stateOf("transcript") !== "complete") {
    body.replaceChildren(notMade("transcript"));
    return;
  }
  try {
    const data = await getJSON(fileUrl("transcript"));
    const rows = transcriptRows(data);
    const speakers = new Map();
    const list = el("ol", { class: "transcript", attrs: { "aria-label": "Transcript lines" } });
    for (const row of rows) {
      const name = typeof row.speaker === "string" && row.speaker.trim() ? row.speaker.trim() : null;
      if (name && !speakers.has(name)) speakers.set(name, speakers.size % SPEAKER_COLOURS);
      list.append(el("li", { class: "line", dataset: { start: String(row.start ?? 0) } },
        seekButton(row.start ?? 0),
        name ? el("span", { class: `speaker spk-${speakers.get(name)}`, text: name }) : null,
        el("span", { class: "text", text: row.text })));
    }
    const legend = speakers.size
      ? el("p", { class: "legend" }, [...speakers].map(([name, i]) => el("span", { class: `speaker spk-${i}`, text: name })))
      : null;
    body.replaceChildren(
      el("p", { class: "muted small", text: `${rows.length} lines${data?.engine ? ` · engine ${data.engine}` : ""}. Select a time to play the source from there.` }),
      legend, list);
    followTranscript(list);
  } catch (error) {
    failed(body, "transcript", error);
  }
}

function followTranscript(list) {
  const video = sourceVideo();
  if (!video) return;
  const lines = [...list.children];
  const starts = lines.map((li) => Number(li.dataset.start));
  let current = null;
  video.addEventListener("timeupdate", () => {
    const t = video.currentTime;
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= t) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const line = found >= 0 ? lines[found] : null;
    if (line === current) return;
    current?.classList.remove("is-current");
    line?.classList.add("is-current");
    current = line;
  });
}

async function drawAnalysis() {
  const body = bodyOf("analysis");
  if (stateOf("analysis") !== "complete") {
    body.replaceChildren(notMade("analysis"));
    return;
  }
  try {
    const data = await getJSON(fileUrl("analysis"));
    const segments = Array.isArray(data) ? data : data.segments || [];
    const picked = await optional(`/segments/api/${encodeURIComponent(episodeId)}`);
    const selected = new Set(picked?.selected_ids || []);
    const cards = segments.map((s) => {
      const span = s.fullerContextTimestamps || {};
      return el("article", { class: "segment", dataset: { severity: String(s.severityRating || "").toUpperCase() } },
        el("header", { class: "segment-head" },
          el("h3", { text: s.narrativeSegmentTitle || s.segment_id }),
          el("span", { class: "badge severity", text: s.severityRating || "—" }),
          selected.has(s.segment_id) ? el("span", { class: "badge", dataset: { status: "completed" }, text: "selected" }) : null),
        el("p", { class: "segment-facts muted small" },
          seekButton(span.start ?? 0), "–", el("span", { text: fmt.duration(span.end) }),
          ` · ${fmt.duration(s.segmentDurationInSeconds)} · ${s.harm_category || "uncategorised"}`,
          s.primary_speaker_of_quote ? ` · ${s.primary_speaker_of_quote}` : "",
          Number.isFinite(s.confidence_in_classification) ? ` · confidence ${Math.round(s.confidence_in_classification * 100)}%` : ""),
        s.brief_reasoning_for_classification ? el("p", { text: s.brief_reasoning_for_classification }) : null,
        s.clipContextDescription ? el("p", { class: "muted", text: s.clipContextDescription }) : null,
        (s.suggestedClip || []).map((q) => el("blockquote", { class: "quote" },
          seekButton(q.timestamp ?? span.start ?? 0), " ", el("span", { text: q.quote || "" }))));
    });
    body.replaceChildren(
      el("p", { class: "muted small" }, `${segments.length} segment${segments.length === 1 ? "" : "s"} found. `,
        el("a", { href: `/segments/episode/${encodeURIComponent(episodeId)}`, text: "Choose which ones to use" })),
      el("div", { class: "segment-grid" }, cards));
  } catch (error) {
    failed(body, "segments", error);
  }
}

async function loadScript() {
  script = null;
  if (stateOf("script") !== "complete") return;
  script = await getJSON(fileUrl("script"));
}

function drawScript(error) {
  const body = bodyOf("script");
  if (error) return failed(body, "script", error);
  if (!script) return body.replaceChildren(notMade("script"));
  const sections = script.podcast_sections || [];
  const items = sections.map((s) => el("li", { class: "script-section", dataset: { type: s.section_type } },
    el("span", { class: "badge", text: String(s.section_type || "").replace("_", " ") }),
    s.section_type === "video_clip"
      ? el("p", {}, el("strong", { text: s.title || s.clip_id }), " ", seekButton(s.start_time ?? 0), "–",
        el("span", { text: fmt.duration(s.end_time) }))
      : el("p", { text: s.script_content || "" })));
  body.replaceChildren(
    script.narrative_theme ? el("p", {}, el("strong", { text: "Theme: " }), script.narrative_theme) : "",
    el("ol", { class: "script" }, items));
}

function drawNarration() {
  const body = bodyOf("narration");
  const sections = (script?.podcast_sections || []).filter((s) => s.section_type !== "video_clip");
  if (stateOf("narration") !== "complete" || !sections.length) {
    body.replaceChildren(notMade("narration", script
      ? el("a", { href: `/audio/${encodeURIComponent(episodeId)}`, text: "Or record or upload it yourself" })
      : null));
    return;
  }
  body.replaceChildren(
    el("p", { class: "muted small" }, "One clip per narration section. ",
      el("a", { href: `/audio/${encodeURIComponent(episodeId)}`, text: "Record or upload your own narration" }), "."),
    el("ol", { class: "clip-list" }, sections.map((s) => el("li", { class: "narration" },
    el("p", {}, el("span", { class: "badge", text: String(s.section_type).replace("_", " ") }), " ",
      el("span", { class: "muted small", text: s.section_id })),
    el("p", { class: "small", text: s.script_content || "" }),
    el("audio", { controls: true, preload: "none", src: fileUrl("section_audio", { section_id: s.section_id }),
      attrs: { "aria-label": `Narration ${s.section_id}` } })))));
}

function drawClips() {
  const body = bodyOf("clips");
  const clips = (script?.podcast_sections || []).filter((s) => s.section_type === "video_clip");
  if (stateOf("clips") !== "complete" || !clips.length) {
    body.replaceChildren(notMade("clips"));
    return;
  }
  const clipUrl = (c) => {
    const url = fileUrl("clip", { clip_id: c.clip_id });
    return url ? `${url}#t=0.1` : undefined;
  };
  body.replaceChildren(el("ol", { class: "clip-grid" }, clips.map((c) => el("li", { class: "clip" },
    el("div", { class: "video-frame" },
      // preload=metadata and a #t=0.1 media fragment: the player shows the clip's first frame and
      // its length before it is played, instead of a black box.
      el("video", { controls: true, preload: "metadata", src: clipUrl(c),
        attrs: { "aria-label": `Clip ${c.title || c.clip_id}` } })),
    el("p", { class: "small" }, el("strong", { text: c.title || c.clip_id }), " ",
      el("span", { class: "muted", text: `${fmt.duration(c.start_time)}–${fmt.duration(c.end_time)}` }))))));
}

function drawFinal() {
  const body = bodyOf("final");
  if (stateOf("final") !== "complete") {
    body.replaceChildren(notMade("final"));
    return;
  }
  const video = fileUrl("final_video");
  body.replaceChildren(
    el("div", { class: "video-frame" }, el("video", { id: "final-video", controls: true, preload: "metadata", src: video })),
    el("ul", { class: "link-list" },
      el("li", {}, el("a", { href: video, text: "Download the video (final.mp4)", attrs: { download: "final.mp4" } })),
      el("li", {}, el("a", { href: fileUrl("final_srt"), text: "Download the subtitles (final.srt)", attrs: { download: "final.srt" } }))));
}

/** Draw the artifacts whose state changed since they were last drawn. */
async function drawArtifacts() {
  const changed = (key) => {
    const state = stateOf(key);
    if (shown.get(key) === state) return false;
    shown.set(key, state);
    return true;
  };
  if (changed("original_video")) drawSource();
  const work = [];
  if (changed("transcript")) work.push(drawTranscript());
  if (changed("analysis")) work.push(drawAnalysis());
  const scriptChanged = changed("script");
  const narrationChanged = changed("narration");
  const clipsChanged = changed("clips");
  if (scriptChanged || narrationChanged || clipsChanged) {
    let error = null;
    try {
      if (scriptChanged || !script) await loadScript();
    } catch (problem) {
      error = problem;
    }
    if (scriptChanged) drawScript(error);
    if (scriptChanged || narrationChanged) drawNarration();
    if (scriptChanged || clipsChanged) drawClips();
  }
  if (changed("final")) drawFinal();
  await Promise.all(work);
}

// ---------------------------------------------------------------------- facts and runs
async function loadEpisode() {
  episode = await getJSON(`/episodes/api/episodes/${encodeURIComponent(episodeId)}`);
  byId("episode-duration").textContent = fmt.duration(episode.duration);
  byId("episode-created").textContent = fmt.dateTime(episode.created_at);
  byId("episode-chips").replaceChildren(stageChips(stages, episode.stages));
  if (episode.title && byId("episode-title").textContent !== episode.title) {
    byId("episode-title").textContent = episode.title;
  }
}

function historyItem(session) {
  const logBox = el("div", { class: "history-log", hidden: true });
  const toggle = el("button", {
    type: "button", class: "btn btn-small", text: "Show log", attrs: { "aria-expanded": "false" },
  });
  let consoleView = null;
  toggle.addEventListener("click", async () => {
    const open = logBox.hidden;
    logBox.hidden = !open;
    toggle.textContent = open ? "Hide log" : "Show log";
    toggle.setAttribute("aria-expanded", String(open));
    if (!open || consoleView) return;
    consoleView = new LogConsole(logBox, {
      label: `Log of run ${fmt.shortId(session.session_id)}`,
      fetchEarlier: (before, limit) => fetchLogs(session.session_id, Math.max(0, before - 1 - limit), Math.min(limit, before - 1)),
    });
    await loadWholeLog(session.session_id, consoleView, logBox);
  });
  return el("li", { class: "history-item", dataset: { session: session.session_id } },
    el("div", { class: "history-head" },
      statusBadge(session.status),
      el("span", { text: `Run ${fmt.shortId(session.session_id)} · stages ${stageList(session.selected_stages)}` }),
      el("span", { class: "muted", text: `${fmt.dateTime(session.created_at)} · ${sessionDuration(session)}` }),
      el("div", { class: "actions compact" },
        toggle,
        el("a", { class: "btn btn-small", href: `/pipeline/?session=${encodeURIComponent(session.session_id)}`, text: "Open in monitor" }))),
    session.error ? el("p", { class: "field-error", text: session.error }) : null,
    logBox);
}

async function fetchLogs(sessionId, after, limit) {
  const body = await getJSON(`/pipeline/logs/${encodeURIComponent(sessionId)}?after=${after}&limit=${limit}`);
  return body.logs || [];
}

async function loadWholeLog(sessionId, view, box) {
  const page = 5000;
  let after = 0;
  try {
    for (;;) {
      const records = await fetchLogs(sessionId, after, page);
      view.push(records);
      if (records.length < page) break;
      after = records[records.length - 1].seq;
    }
  } catch (error) {
    box.append(el("p", { class: "field-error", text: `Could not load the log: ${error.message}` }));
  }
}

async function loadSessions() {
  try {
    const body = await getJSON("/pipeline/sessions");
    const mine = body.sessions.filter((s) => s.episode_id === episodeId);
    const list = byId("episode-sessions");
    const open = new Set([...list.querySelectorAll(".history-item")].filter((li) => !li.querySelector(".history-log").hidden).map((li) => li.dataset.session));
    list.replaceChildren(...mine.map(historyItem));
    for (const id of open) list.querySelector(`[data-session="${CSS.escape(id)}"] .btn`)?.click();
    byId("sessions-empty").hidden = mine.length > 0;
    return mine;
  } catch (error) {
    say(byId("sessions-error"), `Could not load the runs: ${error.message}`);
    return [];
  }
}

// ---------------------------------------------------------------------- live
async function showMonitor(sessionId) {
  const section = byId("episode-monitor");
  if (!monitor) {
    monitor = await createMonitor(section, { onFinish: () => refresh() });
  }
  section.hidden = false;
  if (monitor.sessionId !== sessionId) monitor.watch(sessionId);
}

async function refresh() {
  try {
    await loadEpisode();
    await drawArtifacts();
    await loadSessions();
  } catch (error) {
    say(byId("sessions-error"), `Could not refresh the episode: ${error.message}`);
  }
}

function listenLive() {
  const soon = debounce(refresh, 800);
  on("pipeline_progress", (p) => {
    if (p.episode_id !== episodeId) return;
    if (!monitor || monitor.sessionId !== p.session_id) showMonitor(p.session_id);
    if (p.status !== "running") soon();
  });
}

/** Show a new title in the heading and the tab (textContent only). */
function showTitle(title) {
  byId("episode-title").textContent = title;
  document.title = `${title} · Clipcast`;
}

/** "Rename" turns the heading into an input: Enter saves (PATCH), Escape cancels. */
function initRename() {
  const button = byId("rename-episode");
  const heading = byId("episode-title");
  const error = byId("rename-error");
  let input = null;
  const close = () => {
    input?.remove();
    input = null;
    heading.hidden = false;
    button.disabled = false;
    button.focus();
  };
  const save = async () => {
    const title = input.value.trim();
    if (!title) {
      fieldError(input, error, "Enter a title: 1 to 200 characters.");
      return;
    }
    input.disabled = true;
    try {
      episode = await request("PATCH", `/episodes/api/episodes/${encodeURIComponent(episodeId)}`, { title });
      fieldError(input, error, "");
      showTitle(episode.title);
      close();
      announce(`Renamed to ${episode.title}.`);
    } catch (problem) {
      input.disabled = false;
      fieldError(input, error, problem.message);
      input.focus();
    }
  };
  button.addEventListener("click", () => {
    if (input) return;
    input = el("input", {
      type: "text", class: "title-input", id: "episode-title-input", value: heading.textContent,
      attrs: { "aria-label": "Episode title", maxlength: "200", "aria-describedby": "rename-error" },
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        save();
      } else if (event.key === "Escape") {
        event.preventDefault();
        fieldError(input, error, "");
        close();
      }
    });
    heading.hidden = true;
    heading.after(input);
    button.disabled = true;
    input.focus();
    input.select();
  });
}

function initDelete() {
  const button = byId("delete-episode");
  button.addEventListener("click", async () => {
    const name = byId("episode-title").textContent;
    const yes = await confirmDialog({
      title: "Delete this episode?",
      message: `“${name}” and every file made from it will be deleted. This cannot be undone.`,
      confirmText: "Delete episode",
      danger: true,
    });
    if (!yes) {
      button.focus();
      return;
    }
    try {
      await del(`/episodes/api/episodes/${encodeURIComponent(episodeId)}`);
      window.location.assign("/");
    } catch (error) {
      say(byId("delete-error"), error.message);
      button.focus();
    }
  });
}

async function main() {
  initRename();
  initDelete();
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-seek]");
    if (button) seek(button.dataset.seek);
  });
  try {
    stages = await loadStages();
    await loadEpisode();
  } catch (error) {
    say(byId("sessions-error"), `Could not load the episode: ${error.message}`);
    return;
  }
  await drawArtifacts();
  const sessions = await loadSessions();
  const running = sessions.find((s) => isActive(s.status));
  if (running) await showMonitor(running.session_id);
  listenLive();
}

main();
