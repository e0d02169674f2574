// The script editor's store: edits, moves, clips from words, nudges, snaps and lengths.
import assert from "node:assert/strict";
import { it } from "node:test";

import { ScriptStore, flattenWords, freeId, nearest, spokenSeconds } from "../../static/js/scriptstore.js";

const words = ["the", "tea", "was", "grown", "on", "a", "hill"].map((word, n) => ({
  word, start: n * 0.6 + 0.05, end: n * 0.6 + 0.45,
}));
const context = {
  source_seconds: 12, target_seconds: 20, words_per_minute: 150, pad_seconds: 0.5,
  transcript: [{ start: 0.05, end: 1.25, text: "the tea", words: words.slice(0, 2) },
    { start: 1.25, end: 4, text: "rest", words: words.slice(2) }],
};
const script = () => ({
  version: 3,
  narrative_theme: "Tea",
  podcast_sections: [
    { section_id: "intro", section_type: "intro", script_content: "one two three four five" },
    { section_id: "clip_01", section_type: "video_clip", clip_id: "clip_01", title: "A", start_time: 1, end_time: 3.5 },
    { section_id: "outro", section_type: "outro", script_content: "bye" },
  ],
});

it("counts spoken seconds like the server (150 words a minute)", () => {
  assert.equal(spokenSeconds("one two three four five"), 2);
  assert.equal(spokenSeconds("  "), 0);
  assert.equal(spokenSeconds("a b c", 60), 3);
});

it("estimates every section and the total with pauses, against the target", () => {
  const store = new ScriptStore(script(), context);
  const lengths = store.lengths();
  assert.deepEqual(lengths.sections, [2, 2.5, 0.4]);
  assert.equal(lengths.total, 5.9); // 4.9 + two 0.5 s pauses
  assert.equal(lengths.over, -14.1);
  store.setText(0, "one two three four five six seven eight nine ten");
  assert.equal(store.lengths().sections[0], 4);
  assert.ok(store.dirty);
});

it("moves sections and keeps the version out of the saved body", () => {
  const store = new ScriptStore(script(), context);
  assert.equal(store.version, 3);
  assert.equal(store.move(0, 1), 1);
  assert.deepEqual(store.ids(), ["clip_01", "intro", "outro"]);
  assert.equal(store.move(2, 9), 2);
  const body = store.toScript("note here");
  assert.equal(body.version, undefined);
  assert.equal(body.note, "note here");
  assert.deepEqual(body.podcast_sections.map((s) => s.section_id), ["clip_01", "intro", "outro"]);
});

it("nudges in and out points within the source and snaps to word borders", () => {
  const store = new ScriptStore(script(), context);
  assert.equal(store.nudge(1, "start", 0.1), 1.1);
  assert.equal(store.nudge(1, "start", -1), 0.1);
  assert.equal(store.nudge(1, "start", -1), 0);
  assert.equal(store.nudge(1, "end", 100), 12);
  assert.equal(store.snap(1, "end"), 4.05); // the last word's end
  store.nudge(1, "start", 1.3);
  assert.equal(store.snap(1, "start"), 1.25); // "tea" starts at 0.65, "was" at 1.25
});

it("adds a clip of exactly the chosen words, with a fresh id", () => {
  const store = new ScriptStore(script(), context);
  const index = store.addWordsClip(1, 3, 1);
  assert.equal(index, 1);
  const clip = store.sections[1];
  assert.equal(clip.section_id, "clip_02");
  assert.equal(clip.start_time, 0.65);
  assert.equal(clip.end_time, 2.25);
  assert.equal(clip.title, "tea was grown");
  assert.equal(store.addNarration(null, "post_clip"), 4);
  assert.equal(store.sections[4].section_id, "post_clip_01");
  assert.deepEqual(store.problems(), ["section 5 (post_clip_01): the narration is empty"]);
});

it("adds a segment's clip and tells a clip past the source", () => {
  const store = new ScriptStore(script(), context);
  store.addSegmentClip(null, { segment_id: "seg_003", title: "Late", start_time: 9, end_time: 13 });
  const clip = store.sections.at(-1);
  assert.equal(clip.segment_id, "seg_003");
  assert.match(store.problems()[0], /clip ends after the source/);
  store.remove(3);
  store.remove(1);
  assert.deepEqual(store.problems(), ["the script has no clip"]);
});

it("helpers: nearest border, free ids, words of lines without word times", () => {
  assert.equal(nearest([1, 2, 3], 2.4), 2);
  assert.equal(nearest([], 2.4), 2.4);
  assert.equal(freeId("clip", ["clip_01", "clip_07", "intro"]), "clip_08");
  assert.equal(flattenWords([{ start: 1, end: 2, text: "hello there" }])[0].word, "hello there");
});
