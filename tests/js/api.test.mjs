// The episode's file URLs come from the paths its JSON serves, never from a copy of the layout.
import assert from "node:assert/strict";
import { it } from "node:test";

import { episodeFileUrl, outputUrl } from "../../static/js/api.js";

const episode = {
  episode_id: "ep1",
  paths: { script: "Output/Scripts/unified_podcast_script.json", clip: "Output/Video/{clip_id}.mp4" },
};

it("builds a media URL from the served paths", () => {
  assert.equal(episodeFileUrl(episode, "script"), "/media/ep1/Output/Scripts/unified_podcast_script.json");
  assert.equal(episodeFileUrl(episode, "clip", { clip_id: "clip_002" }), "/media/ep1/Output/Video/clip_002.mp4");
});

it("refuses an unknown key and an unsafe item name", () => {
  assert.equal(episodeFileUrl(episode, "final_video"), null);
  assert.equal(episodeFileUrl({ episode_id: "ep1" }, "script"), null);
  assert.equal(episodeFileUrl(episode, "clip", { clip_id: "../../etc" }), null);
  assert.equal(episodeFileUrl(episode, "clip"), null);
});

it("keeps session outputs on this site", () => {
  assert.equal(outputUrl("ep1", "/media/ep1/Output/Final/final.mp4"), "/media/ep1/Output/Final/final.mp4");
  assert.equal(outputUrl("ep1", "https://evil.example/x.mp4"), null);
  assert.equal(outputUrl("ep1", "Output/Final/final.srt"), "/media/ep1/Output/Final/final.srt");
});
