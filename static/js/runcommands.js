// What the monitor asks of the server about one run: its state (socket, or HTTP when the
// socket is slow), earlier log lines, interrupt and resume. No DOM and no state of its own.
import { getJSON, postJSON } from "./api.js";
import { earlierRange, STATE_PAGE } from "./sessionstore.js";
import { emit } from "./socket.js";

const sessionPath = (sessionId) => encodeURIComponent(sessionId);

/** Ask over the socket for a `pipeline_state` answer (a snapshot and the lines after a seq). */
export function requestState(payload) {
  emit("request_state", payload);
}

/**
 * The same answer over HTTP: `{session, logs}` of `sessionId` (or of the running session when
 * null), with the lines after `afterSeq`; `{session: null}` when nothing runs.
 */
export async function fetchState(sessionId, afterSeq) {
  let id = sessionId;
  if (!id) {
    id = (await getJSON("/pipeline/status")).session_id || null;
    if (!id) return { session: null, logs: [] };
  }
  const after = id === sessionId ? afterSeq : 0;
  const [session, body] = await Promise.all([
    getJSON(`/pipeline/status/${sessionPath(id)}`),
    getJSON(`/pipeline/logs/${sessionPath(id)}?after=${after}&limit=${STATE_PAGE * 5}`),
  ]);
  return { session, logs: body.logs || [] };
}

/** Up to `limit` log records just before seq `before`. */
export async function fetchEarlier(sessionId, before, limit) {
  const range = earlierRange(before, limit);
  const body = await getJSON(`/pipeline/logs/${sessionPath(sessionId)}?after=${range.after}&limit=${range.limit}`);
  return body.logs || [];
}

/** How long each stage of a run is expected to take on this machine (GET /pipeline/estimates). */
export async function fetchEstimates(sessionId) {
  return getJSON(`/pipeline/estimates/${sessionPath(sessionId)}`);
}

/** Interrupt a run; true when it was running (false: it had ended already). */
export async function interruptRun(sessionId) {
  const body = await postJSON(`/pipeline/interrupt/${sessionPath(sessionId)}`);
  return body.status === "interrupted";
}

/** Resume a failed or interrupted run; return the new session's id. */
export async function resumeRun(sessionId) {
  const body = await postJSON(`/pipeline/resume/${sessionPath(sessionId)}`);
  return body.session_id;
}
