// Talking to the Clipcast API: JSON in and out, errors as ApiError {message, field, status}.

/** An API error: `message` is for the user, `field` names the input at fault (if any). */
export class ApiError extends Error {
  constructor(message, { status = 0, field = null, errors = [], body = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.field = field;
    this.errors = Array.isArray(errors) ? errors : [];
    this.body = body;
  }
}

const UNREACHABLE = "Could not reach the Clipcast server. Check that it is running, then try again.";

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const message = body && typeof body.error === "string"
    ? body.error
    : `The server answered ${response.status} ${response.statusText || ""}`.trim();
  return new ApiError(message, {
    status: response.status, field: body?.field ?? null, errors: body?.errors ?? [], body,
  });
}

/** Send a request; return the JSON body (null for 204); throw ApiError on failure. */
export async function request(method, url, body) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(UNREACHABLE);
  }
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const getJSON = (url) => request("GET", url);
export const postJSON = (url, body = {}) => request("POST", url, body);
export const putJSON = (url, body = {}) => request("PUT", url, body);
export const del = (url) => request("DELETE", url);

/** GET an endpoint that may not exist yet: its JSON on 200, else null (never throws). */
export async function optional(url) {
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (response.status !== 200) return null;
    return await response.json();
  } catch {
    return null;
  }
}

/**
 * POST a FormData with upload progress (XMLHttpRequest; fetch cannot report it).
 * Returns {promise, abort}; `onProgress(loaded, total)` is called as bytes go out.
 */
export function upload(url, formData, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      const body = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
        return;
      }
      const message = body && typeof body.error === "string"
        ? body.error
        : xhr.status === 413
          ? "The file is larger than the server accepts (MAX_UPLOAD_MB)."
          : `The server answered ${xhr.status}`;
      reject(new ApiError(message, { status: xhr.status, field: body?.field ?? "file", body }));
    });
    xhr.addEventListener("error", () => reject(new ApiError(UNREACHABLE, { field: "file" })));
    xhr.addEventListener("abort", () => reject(new ApiError("Upload cancelled.", { field: "file" })));
    xhr.send(formData);
  });
  return { promise, abort: () => xhr.abort() };
}

let stagesPromise = null;

/** The seven stages as the server describes them (cached): [{number, name, description, ...}]. */
export function loadStages() {
  if (!stagesPromise) {
    stagesPromise = getJSON("/pipeline/stages").then((body) => body.stages).catch((error) => {
      stagesPromise = null;
      throw error;
    });
  }
  return stagesPromise;
}

/** The URL of a file inside an episode folder. */
export function mediaUrl(episodeId, relativePath) {
  const path = String(relativePath).split("/").map(encodeURIComponent).join("/");
  return `/media/${encodeURIComponent(episodeId)}/${path}`;
}

const SAFE_PART = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The URL of one of an episode's files, from the `paths` its JSON serves (the server alone
 * knows the folder layout); `parts` fills a per-item name such as {clip_id}. Null when unknown.
 */
export function episodeFileUrl(episode, key, parts = {}) {
  const template = episode?.paths?.[key];
  if (typeof template !== "string") return null;
  let unsafe = false;
  const path = template.replace(/\{(\w+)\}/g, (_, name) => {
    const value = String(parts[name] ?? "");
    if (!SAFE_PART.test(value)) unsafe = true;
    return value;
  });
  return unsafe ? null : mediaUrl(episode.episode_id, path);
}

/** A URL from a session's outputs: already a /media/ URL, or a path inside the episode. */
export function outputUrl(episodeId, value) {
  if (!value || typeof value !== "string") return null;
  if (value.startsWith("/media/")) return value;
  if (value.startsWith("/") || value.includes(":")) return null; // never another origin
  return mediaUrl(episodeId, value);
}

/** True for session statuses that still change. */
export function isActive(status) {
  return ["queued", "running", "waiting_for_selection"].includes(status);
}
