// The picker's list of segment cards: rendered in batches as it scrolls into view, details filled
// on first open, and one shared player that previews exactly a segment's range of the source.
import { announce, el } from "./dom.js";
import * as fmt from "./format.js";
import { severityBadge } from "./widgets.js";

const BATCH = 40; // cards added at a time
const AHEAD = "1200px 0px"; // how far below the view the next batch is already added

export class SegmentList {
  /**
   * @param {HTMLElement} list the <ol> that holds the cards
   * @param {HTMLElement} sentinel an element after the list: in view means "add more"
   * @param {{isSelected: (id: string) => boolean, onCheck: (id: string, checked: boolean) => void,
   *          sourceUrl: () => string|null, transcript: () => Promise<object[]|null>}} hooks
   */
  constructor(list, sentinel, hooks) {
    this.list = list;
    this.sentinel = sentinel;
    this.hooks = hooks;
    this.segments = [];
    this.byId = new Map();
    this.rendered = 0;
    this.preview = { video: null, start: 0, end: 0, frame: 0 };
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.appendBatch();
    }, { rootMargin: AHEAD });
    this.listen();
  }

  /** Show these segments (in this order), replacing the cards shown before. */
  show(segments) {
    this.segments = segments;
    this.byId = new Map(segments.map((s) => [s.segment_id, s]));
    this.list.replaceChildren();
    this.rendered = 0;
    this.appendBatch();
  }

  /** Make every rendered checkbox match the selection. */
  syncChecks() {
    for (const box of this.list.querySelectorAll(".pick-box")) box.checked = this.hooks.isSelected(box.value);
  }

  appendBatch() {
    if (this.rendered >= this.segments.length) return;
    const fragment = document.createDocumentFragment();
    const end = Math.min(this.segments.length, this.rendered + BATCH);
    for (let i = this.rendered; i < end; i += 1) fragment.append(this.card(this.segments[i]));
    this.rendered = end;
    this.list.append(fragment);
    // Still in view after this batch? Observing again makes the observer report it once more.
    this.observer.unobserve(this.sentinel);
    if (this.rendered < this.segments.length) this.observer.observe(this.sentinel);
  }

  listen() {
    this.list.addEventListener("change", (event) => {
      const box = event.target.closest(".pick-box");
      if (box) this.hooks.onCheck(box.value, box.checked);
    });
    this.list.addEventListener("click", (event) => {
      const play = event.target.closest("button[data-preview]");
      if (play) this.startPreview(play.dataset.preview, play);
      const close = event.target.closest("button[data-close-preview]");
      if (close) this.closePreview(close);
    });
    // <details> "toggle" does not bubble: listen in the capture phase, fill on first open.
    this.list.addEventListener("toggle", (event) => {
      const details = event.target;
      if (!(details instanceof HTMLDetailsElement) || !details.open || details.dataset.filled) return;
      const segment = this.byId.get(details.dataset.id);
      if (!segment) return;
      details.dataset.filled = "1";
      details.append(this.detailsBody(segment));
    }, true);
  }

  // ------------------------------------------------------------------ cards
  card(segment) {
    const id = segment.segment_id;
    const boxId = `pick-${id}`;
    const span = segment.fullerContextTimestamps;
    const range = `${fmt.duration(span.start)}–${fmt.duration(span.end)}`;
    const confidence = Number(segment.confidence_in_classification);
    const source = this.hooks.sourceUrl();
    const fact = (label, value) => el("div", {}, el("dt", { text: label }), el("dd", { text: value }));
    return el("li", { class: "segment pick-card", dataset: { id, severity: segment.severityRating } },
      el("div", { class: "pick-head" },
        el("input", { type: "checkbox", id: boxId, class: "pick-box", value: id, checked: this.hooks.isSelected(id) }),
        el("h3", { class: "pick-title" }, el("label", { attrs: { for: boxId }, text: segment.narrativeSegmentTitle })),
        severityBadge(segment.severityRating)),
      el("dl", { class: "pick-facts" },
        fact("Category", segment.harm_category),
        fact("Speaker", segment.primary_speaker_of_quote),
        fact("Confidence", Number.isFinite(confidence) ? `${Math.round(confidence * 100)}%` : "—"),
        fact("Duration", fmt.duration(segment.segmentDurationInSeconds)),
        fact("Time", range)),
      el("div", { class: "actions compact" },
        el("button", {
          type: "button", class: "btn btn-small preview-button", text: "▶ Preview", dataset: { preview: id },
          disabled: !source, title: source ? "" : "The source video is not available yet (stage 1).",
          attrs: { "aria-label": `Preview ${segment.narrativeSegmentTitle}, ${range}` },
        })),
      el("div", { class: "preview-slot" }),
      el("details", { class: "pick-details", dataset: { id } },
        el("summary", { text: "Reasoning, context, quotes and transcript" })));
  }

  detailsBody(segment) {
    const quotes = segment.suggestedClip || [];
    const transcript = el("ol", { class: "excerpt", attrs: { "aria-label": "Transcript excerpt" } },
      el("li", { class: "muted", text: "Loading the transcript…" }));
    this.fillExcerpt(transcript, segment);
    return el("div", { class: "pick-more" },
      el("h4", { text: "Why it was picked" }), el("p", { text: segment.brief_reasoning_for_classification }),
      el("h4", { text: "Context" }), el("p", { text: segment.clipContextDescription }),
      el("h4", { text: "Suggested quotes" }),
      quotes.length
        ? el("ul", { class: "quotes" }, quotes.map((q) => el("li", { class: "quote" },
          el("span", { class: "muted", text: `${fmt.duration(q.timestamp)} ` }), el("span", { text: q.quote }))))
        : el("p", { class: "muted", text: "None." }),
      el("h4", { text: "Transcript" }), transcript);
  }

  async fillExcerpt(node, segment) {
    const { start, end } = segment.fullerContextTimestamps;
    try {
      const rows = await this.hooks.transcript();
      if (!rows) {
        node.replaceChildren(el("li", { class: "muted", text: "No transcript yet (stage 2 makes it)." }));
        return;
      }
      // The sentences that overlap the segment's range.
      const inside = rows.filter((r) => Number(r.end ?? r.start) > start && Number(r.start) < end);
      node.replaceChildren(...(inside.length ? inside.map((r) => el("li", {},
        el("span", { class: "muted excerpt-time", text: fmt.duration(r.start) }),
        r.speaker ? el("strong", { class: "excerpt-speaker", text: `${r.speaker}: ` }) : null,
        el("span", { text: r.text })))
        : [el("li", { class: "muted", text: "No transcript lines in this range." })]));
    } catch (error) {
      node.replaceChildren(el("li", { class: "field-error", text: `Could not read the transcript: ${error.message}` }));
    }
  }

  // ------------------------------------------------------------------ preview
  previewVideo() {
    const preview = this.preview;
    if (preview.video) return preview.video;
    const video = el("video", {
      controls: true, preload: "metadata", class: "preview-video", src: this.hooks.sourceUrl(),
      attrs: { playsinline: true, "aria-label": "Segment preview" },
    });
    const stopAtEnd = () => {
      if (video.currentTime < preview.end - 0.01) return false;
      video.pause();
      video.currentTime = preview.end;
      return true;
    };
    // Checked every frame while playing (timeupdate alone comes only every ~250 ms).
    const tick = () => {
      preview.frame = 0;
      if (video.paused || stopAtEnd()) return;
      preview.frame = requestAnimationFrame(tick);
    };
    video.addEventListener("play", () => {
      if (video.currentTime >= preview.end - 0.05 || video.currentTime < preview.start - 0.25) {
        video.currentTime = preview.start;
      }
      cancelAnimationFrame(preview.frame);
      preview.frame = requestAnimationFrame(tick);
    });
    video.addEventListener("timeupdate", stopAtEnd); // rAF sleeps in hidden tabs; this does not
    video.addEventListener("seeked", () => {
      // The preview is the segment only: seeking outside it comes back inside.
      if (video.currentTime < preview.start - 0.25) video.currentTime = preview.start;
      else if (video.currentTime > preview.end + 0.05) video.currentTime = preview.end;
    });
    video.addEventListener("error", () => {
      const note = video.closest(".preview-slot")?.querySelector(".preview-note");
      if (note) note.textContent = "The source video could not be played.";
    });
    preview.video = video;
    return video;
  }

  startPreview(id, button) {
    const segment = this.byId.get(id);
    const slot = button.closest(".pick-card")?.querySelector(".preview-slot");
    if (!segment || !slot) return;
    const video = this.previewVideo();
    const { start, end } = segment.fullerContextTimestamps;
    this.preview.start = Number(start);
    this.preview.end = Number(end);
    const previous = video.closest(".preview-slot");
    if (previous && previous !== slot) previous.replaceChildren();
    if (previous !== slot) {
      const close = el("button", { type: "button", class: "btn btn-small", text: "Close preview", dataset: { closePreview: id } });
      slot.replaceChildren(el("div", { class: "video-frame preview-frame" }, video),
        el("div", { class: "preview-bar" },
          el("p", { class: "muted small preview-note", text: `Plays ${fmt.duration(start)}–${fmt.duration(end)} of the source, then stops.` }),
          close));
    }
    const go = () => {
      video.currentTime = this.preview.start;
      video.play().catch(() => {});
    };
    if (video.readyState >= 1) go();
    else video.addEventListener("loadedmetadata", go, { once: true });
    announce(`Playing ${segment.narrativeSegmentTitle}, ${fmt.duration(start)} to ${fmt.duration(end)}.`);
  }

  closePreview(button) {
    const slot = button.closest(".preview-slot");
    this.preview.video?.pause();
    slot?.replaceChildren();
    slot?.closest(".pick-card")?.querySelector(".preview-button")?.focus();
  }
}
