// Tiny DOM helpers. Text is always set as text (never as HTML), so data cannot inject markup,
// and handlers are attached with addEventListener, which the Content-Security-Policy allows.

/**
 * h("button", {class: "btn", onclick: fn, disabled: true}, "Label", child, [more])
 * Keys starting with "on" take functions; `class`, `dataset` and `text` are special;
 * true sets an empty attribute, false/null/undefined leave it out.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "text") {
      el.textContent = value;
    } else if (key === "value" && "value" in el) {
      el.value = value;
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replace an element's content. */
export function render(el, ...children) {
  clear(el);
  return append(el, children);
}

let uid = 0;
export function nextId(prefix = "id") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: <div class="field"><label/>control<p hint/></div>. */
export function field(label, control, { hint, id } = {}) {
  const controlId = control.id || id || nextId("f");
  control.id = controlId;
  let hintEl = null;
  if (hint) {
    hintEl = h("p", { class: "hint", id: `${controlId}-hint` }, hint);
    control.setAttribute("aria-describedby", hintEl.id);
  }
  return h("div", { class: "field" }, h("label", { for: controlId }, label), control, hintEl);
}

/** Seconds as m:ss. */
export function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Seconds in words: "30 seconds", "2 minutes 30 seconds". */
export function durationWords(seconds) {
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  const r = s % 60;
  const parts = [];
  if (m) parts.push(`${m} minute${m === 1 ? "" : "s"}`);
  if (r || !m) parts.push(`${r} second${r === 1 ? "" : "s"}`);
  return parts.join(" ");
}

export function formatDateTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Announce a message to screen readers (and show it) in a live region. */
export function announce(region, message, tone = "info") {
  if (!region) return;
  region.textContent = "";
  region.dataset.tone = tone;
  // A fresh text node after clearing makes screen readers read repeated messages again.
  window.setTimeout(() => { region.textContent = message; }, 30);
}

export const sleep = (ms) => new Promise((resolve) => { window.setTimeout(resolve, ms); });
