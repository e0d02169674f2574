// The page's one Socket.IO connection: connection state, (re)connect hooks, event helpers.
import { io } from "../vendor/socket.io.esm.min.js";

let socket = null;
let state = "connecting";
const stateListeners = new Set();
const connectListeners = new Set();

function setState(next) {
  if (next === state) return;
  state = next;
  for (const listener of stateListeners) listener(state);
}

/** Return the shared socket, connecting on first use. */
export function getSocket() {
  if (socket) return socket;
  socket = io({ reconnectionDelay: 500, reconnectionDelayMax: 4000, timeout: 8000 });
  socket.on("connect", () => {
    setState("connected");
    for (const listener of connectListeners) listener();
  });
  socket.on("disconnect", (reason) => {
    setState("reconnecting");
    // The server closed us on purpose: Socket.IO does not retry by itself then.
    if (reason === "io server disconnect") socket.connect();
  });
  socket.on("connect_error", () => setState("reconnecting"));
  socket.io.on("reconnect_failed", () => setState("offline"));
  return socket;
}

/** Follow the connection state: connecting | connected | reconnecting | offline. */
export function onConnectionState(listener) {
  getSocket();
  stateListeners.add(listener);
  listener(state);
  return () => stateListeners.delete(listener);
}

/** Run `listener` on every connect and reconnect (now too, when already connected). */
export function onConnect(listener) {
  const s = getSocket();
  connectListeners.add(listener);
  if (s.connected) listener();
  return () => connectListeners.delete(listener);
}

/** Listen to a server event; returns a function that stops listening. */
export function on(event, handler) {
  const s = getSocket();
  s.on(event, handler);
  return () => s.off(event, handler);
}

/** Send an event to the server (buffered by Socket.IO while disconnected). */
export function emit(event, payload) {
  getSocket().emit(event, payload);
}

/** Whether the socket is connected right now. */
export function isConnected() {
  return Boolean(socket && socket.connected);
}

/** Words for a connection state, for indicators. */
export const CONNECTION_WORDS = {
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Connection lost — reconnecting…",
  offline: "Offline — reload the page to retry",
};
