// Tiny DOM helpers: build elements from data with textContent only (never innerHTML).

/**
 * Create an element. `props` may hold: class, text, attrs {name: value}, dataset {k: v},
 * on {event: handler}, and any DOM property (hidden, disabled, value, type, href...).
 * Children may be nodes, strings (added as text) or null/false (skipped).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "attrs") for (const [a, v] of Object.entries(value)) {
      if (v !== undefined && v !== null && v !== false) node.setAttribute(a, v === true ? "" : String(v));
    }
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else node[key] = value;
  }
  append(node, ...children);
  return node;
}

/** Append children (nodes or text) to a node. */
export function append(node, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Return the element with this id, or throw (a template and its module disagree). */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node;
}

let announceTimer = null;

/** Say something in the page's aria-live region (screen readers read it once). */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  clearTimeout(announceTimer);
  // A fresh text node after a tick makes repeated messages heard again.
  announceTimer = setTimeout(() => { region.textContent = message; }, 50);
}

/** Show a message (or hide it when empty) in an element meant for status or errors. */
export function say(node, message, kind = "error") {
  node.textContent = message || "";
  node.hidden = !message;
  node.dataset.kind = kind;
}

/** Call `fn` once per animation frame at most, however often `schedule` is called. */
export function frameBatcher(fn) {
  let pending = false;
  return function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      fn();
    });
  };
}

/** Return a function that calls `fn` after `ms` of quiet. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Show (or clear) the error of one input: the message below it and aria-invalid on it. */
export function fieldError(input, node, message) {
  say(node, message);
  if (!input) return;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}
