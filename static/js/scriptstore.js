// The script editor's state, without the DOM: sections, edits, lengths, word borders.
// The server sends the rules it uses (words a minute, pause per narration, source length).

const NARRATION = ["intro", "pre_clip", "post_clip", "outro"];
const MIN_CLIP_SECONDS = 0.1;

/** Round seconds to milliseconds (the precision the script keeps). */
export const ms = (seconds) => Math.round(Number(seconds) * 1000) / 1000;

/** True for a narration section (spoken text). */
export const isNarration = (section) => NARRATION.includes(section?.section_type);

/** Seconds `text` takes to say at `wordsPerMinute` (like the server's spoken_seconds). */
export function spokenSeconds(text, wordsPerMinute = 150) {
  const words = String(text || "").split(/\s+/).filter(Boolean).length;
  return Math.round((words * 60 / wordsPerMinute) * 10) / 10;
}

/** The transcript's words in time order: [{word, start, end, index}] (a line without words is one). */
export function flattenWords(lines) {
  const words = [];
  for (const line of lines || []) {
    const own = Array.isArray(line?.words) && line.words.length
      ? line.words
      : [{ word: line?.text || "", start: line?.start, end: line?.end }];
    for (const w of own) {
      if (!Number.isFinite(Number(w.start)) || !Number.isFinite(Number(w.end))) continue;
      words.push({ word: String(w.word || "").trim(), start: Number(w.start), end: Number(w.end) });
    }
  }
  words.sort((a, b) => a.start - b.start);
  return words.map((w, index) => ({ ...w, index }));
}

/** The border in `borders` nearest to `value` (value itself when there is none). */
export function nearest(borders, value) {
  let best = value;
  let gap = Infinity;
  for (const border of borders) {
    const d = Math.abs(border - value);
    if (d < gap) {
      gap = d;
      best = border;
    }
  }
  return best;
}

/** The next free id "<prefix>_NN" among `taken`. */
export function freeId(prefix, taken) {
  let n = 1;
  const pattern = new RegExp(`^${prefix}_(\\d+)$`);
  for (const id of taken) {
    const match = pattern.exec(id);
    if (match) n = Math.max(n, Number(match[1]) + 1);
  }
  return `${prefix}_${String(n).padStart(2, "0")}`;
}

export class ScriptStore {
  /** `script`: the server's script; `context`: {source_seconds, target_seconds, words_per_minute, pad_seconds, transcript, segments}. */
  constructor(script, context) {
    const { version, ...rest } = script || {};
    this.script = rest;
    this.version = version ?? null;
    this.context = context || {};
    this.sections = (rest.podcast_sections || []).map((s) => ({ ...s }));
    this.words = flattenWords(this.context.transcript);
    this.dirty = false;
    this.onChange = null; // called after every edit
  }

  get wordsPerMinute() { return Number(this.context.words_per_minute) || 150; }

  get sourceSeconds() { return Number(this.context.source_seconds) || 0; }

  changed() {
    this.dirty = true;
    this.onChange?.();
  }

  /** Set a narration section's text. */
  setText(index, text) {
    this.sections[index].script_content = String(text);
    this.changed();
  }

  /** Set a field (title, section_type...) of a section. */
  setField(index, name, value) {
    this.sections[index][name] = value;
    this.changed();
  }

  /** Move the section at `from` to `to`; return its new index. */
  move(from, to) {
    const target = Math.max(0, Math.min(this.sections.length - 1, to));
    if (from === target || !this.sections[from]) return from;
    const [section] = this.sections.splice(from, 1);
    this.sections.splice(target, 0, section);
    this.changed();
    return target;
  }

  /** Remove a section; return it. */
  remove(index) {
    const [section] = this.sections.splice(index, 1);
    this.changed();
    return section;
  }

  ids() { return this.sections.map((s) => s.section_id); }

  _insert(at, section) {
    const index = at === null || at === undefined ? this.sections.length : Math.max(0, Math.min(this.sections.length, at));
    this.sections.splice(index, 0, section);
    this.changed();
    return index;
  }

  /** Insert a narration section at `at` (the end when null); return its index. */
  addNarration(at = null, type = "pre_clip", text = "") {
    const section = { section_id: freeId(type, this.ids()), section_type: type, script_content: text };
    return this._insert(at, section);
  }

  /** Insert a clip of [start, end] at `at`; return its index. */
  addClip(at, start, end, title, segmentId = null) {
    const taken = this.sections.flatMap((s) => [s.section_id, s.clip_id]).filter(Boolean);
    const id = freeId("clip", taken);
    const section = {
      section_id: id, section_type: "video_clip", clip_id: id, title: String(title || id).trim() || id,
      start_time: ms(start), end_time: ms(end),
    };
    if (segmentId) section.segment_id = segmentId;
    return this._insert(at, section);
  }

  /** Insert the clip of an analysed segment {segment_id, title, start_time, end_time}. */
  addSegmentClip(at, segment) {
    return this.addClip(at, segment.start_time, segment.end_time, segment.title, segment.segment_id);
  }

  /** The range and text of the transcript's words `first`..`last` (indices, either order). */
  wordRange(first, last) {
    const lo = Math.min(first, last);
    const hi = Math.max(first, last);
    const picked = this.words.slice(lo, hi + 1);
    if (!picked.length) return null;
    return {
      start: picked[0].start,
      end: Math.max(...picked.map((w) => w.end)),
      text: picked.map((w) => w.word).join(" "),
    };
  }

  /** Insert a clip of exactly the words `first`..`last`; return its index (null if empty). */
  addWordsClip(at, first, last) {
    const range = this.wordRange(first, last);
    if (!range || range.end - range.start < MIN_CLIP_SECONDS) return null;
    const title = range.text.split(" ").slice(0, 8).join(" ");
    return this.addClip(at, range.start, range.end, title);
  }

  _setEdge(index, edge, value) {
    const clip = this.sections[index];
    const limit = this.sourceSeconds > 0 ? this.sourceSeconds : Infinity;
    if (edge === "start") clip.start_time = ms(Math.max(0, Math.min(value, clip.end_time - MIN_CLIP_SECONDS)));
    else clip.end_time = ms(Math.min(limit, Math.max(value, clip.start_time + MIN_CLIP_SECONDS)));
    delete clip.duration;
    this.changed();
    return edge === "start" ? clip.start_time : clip.end_time;
  }

  /** Move a clip's in ("start") or out ("end") point by `delta` seconds; return the new time. */
  nudge(index, edge, delta) {
    const clip = this.sections[index];
    const current = edge === "start" ? clip.start_time : clip.end_time;
    return this._setEdge(index, edge, Number(current) + delta);
  }

  /** Snap a clip's in point to the nearest word start, its out point to the nearest word end. */
  snap(index, edge) {
    const clip = this.sections[index];
    const borders = this.words.map((w) => (edge === "start" ? w.start : w.end));
    const current = edge === "start" ? clip.start_time : clip.end_time;
    return this._setEdge(index, edge, nearest(borders, Number(current)));
  }

  /** The estimated seconds of one section: narration at words a minute, a clip its range. */
  sectionSeconds(section) {
    if (isNarration(section)) return spokenSeconds(section.script_content, this.wordsPerMinute);
    return Math.max(0, Number(section.end_time) - Number(section.start_time));
  }

  /** {sections: [seconds], total, target, over}: the final's estimated length against the target. */
  lengths() {
    const pad = Number(this.context.pad_seconds) || 0;
    const sections = this.sections.map((s) => this.sectionSeconds(s));
    const pads = this.sections.filter(isNarration).length * pad;
    const total = Math.round((sections.reduce((a, b) => a + b, 0) + pads) * 10) / 10;
    const target = Number(this.context.target_seconds) || 0;
    return { sections, total, target, over: target > 0 ? Math.round((total - target) * 10) / 10 : 0 };
  }

  /** What the server would refuse, told before saving: ["section 2 (intro): ..."]. */
  problems() {
    const found = [];
    this.sections.forEach((s, i) => {
      const where = `section ${i + 1} (${s.section_id})`;
      if (isNarration(s) && !String(s.script_content || "").trim()) found.push(`${where}: the narration is empty`);
      if (!isNarration(s) && this.sourceSeconds > 0 && s.end_time > this.sourceSeconds + 0.05) {
        found.push(`${where}: the clip ends after the source`);
      }
    });
    if (!this.sections.some((s) => s.section_type === "video_clip")) found.push("the script has no clip");
    return found;
  }

  /** The script to PUT: the original fields with the edited sections. */
  toScript(note = "") {
    const body = { ...this.script, podcast_sections: this.sections.map((s) => ({ ...s })) };
    if (note) body.note = note;
    return body;
  }
}
