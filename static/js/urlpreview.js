// What a URL is before it becomes an episode: POST /episodes/api/probe, shown as a card.
import { postJSON } from "./api.js";
import { el } from "./dom.js";
import * as fmt from "./format.js";

/** Ask the server what `url` is: {url, title, duration, uploader, thumbnail, extractor}. */
export const probeUrl = (url) => postJSON("/episodes/api/probe", { url });

/** The preview card of a probe answer (the thumbnail is a data: URL or absent). */
export function previewCard(answer) {
  const thumbnail = typeof answer.thumbnail === "string" && answer.thumbnail.startsWith("data:image/")
    ? el("img", { class: "url-preview-thumb", src: answer.thumbnail, alt: "" })
    : el("div", { class: "url-preview-thumb url-preview-nothumb", attrs: { "aria-hidden": "true" }, text: "▶" });
  const facts = [
    ["Duration", answer.duration ? fmt.duration(answer.duration) : "unknown"],
    ["Uploader", answer.uploader || "unknown"],
    ["Site", answer.extractor || "—"],
  ];
  return el("div", { class: "url-preview-card" }, thumbnail,
    el("div", { class: "url-preview-text" },
      el("p", { class: "url-preview-title", text: answer.title }),
      el("dl", { class: "url-preview-facts" },
        facts.map(([name, value]) => el("div", {}, el("dt", { text: name }), el("dd", { text: value }))))));
}
