// Engine choices, shared by the pipeline and presets pages: which run option each engine kind
// of GET /pipeline/engines sets, its label, and choices that are not engines ("auto", "off").

/** Engine kind -> { field: the run option it sets, label, extra: [[value, text]] choices }. */
export const ENGINE_KINDS = {
  transcript: { field: "transcript_engine", label: "Transcript engine",
    extra: [["auto", "auto — captions when there are any, else recognition"]] },
  analysis: { field: "analysis_engine", label: "Analysis engine", extra: [] },
  narrative: { field: "narrative_engine", label: "Narrative engine", extra: [] },
  tts: { field: "tts_engine", label: "Speech engine", extra: [] },
  diarization: { field: "diarization", label: "Speaker labels",
    extra: [["auto", "auto — label speakers when the captions do not"], ["off", "off"]] },
};

/** Return the run-option field an engine kind sets (unknown kinds: `<kind>_engine`). */
export function engineField(kind) {
  return ENGINE_KINDS[kind]?.field || `${kind}_engine`;
}

/** Return the label of an engine kind. */
export function engineLabel(kind) {
  return ENGINE_KINDS[kind]?.label || `${kind} engine`;
}

/** Return the non-engine choices of a kind that the engine list does not already name. */
export function extraChoices(kind, list) {
  const names = new Set((list || []).map((e) => e.name));
  return (ENGINE_KINDS[kind]?.extra || []).filter(([value]) => !names.has(value));
}

/** Every run-option field the engine choices set. */
export const ENGINE_FIELDS = Object.values(ENGINE_KINDS).map((k) => k.field);
