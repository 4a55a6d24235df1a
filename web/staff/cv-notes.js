// The candidate page's CV and notes: what recruiters keep for people to read, never for scoring.
//   GET/PUT/DELETE /interviews/<id>/cv, GET .../cv/file   the PDF (inline, or ?download=true)
//   GET/POST /interviews/<id>/notes, DELETE .../notes/<note id>   only by the note's author

import { api, get, post, put } from "/shared/api.js";
import { field, formatDateTime, h, render } from "/shared/dom.js";

const MAX_CV_MB = 10;
const MAX_NOTE_CHARS = 5000;

function sizeWords(bytes) {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * The CV card: the PDF in an inline viewer on demand, a download link, replace and remove.
 * `hooks`: {toast(message, tone), viewed(item), signedOut()}.
 */
export function cvPanel(interview, hooks) {
  const id = interview.interview_id;
  const body = h("div", {});
  const card = h("section", { class: "card cv-panel", "aria-labelledby": "cv-h" },
    h("h2", { id: "cv-h" }, "CV"),
    h("p", { class: "hint" },
      "For people to read. The AI never sees the CV: scores come from the words of the answers only."),
    body);

  const failed = (err, error) => {
    if (err.status === 401) { hooks.signedOut(); return; }
    error.textContent = err.message;
  };

  const showViewer = (cv, box, button) => {
    render(box, h("iframe", { class: "cv-frame", src: cv.url, title: `CV of ${interview.candidate_name}` }));
    button.textContent = "Hide CV";
    button.setAttribute("aria-expanded", "true");
    hooks.viewed("cv");
  };

  const uploadForm = (cv) => {
    const input = h("input", { type: "file", accept: "application/pdf,.pdf", name: "cv" });
    const error = h("p", { class: "form-error", role: "alert" });
    const submit = h("button", { type: "submit", class: cv ? "btn btn--secondary" : "btn" }, cv ? "Replace CV" : "Upload CV");
    const form = h("form", { novalidate: true, class: "cv-upload" },
      field(cv ? "Replace with another PDF" : "CV (PDF)", input, { hint: `A PDF of up to ${MAX_CV_MB} MB.` }),
      error, h("div", { class: "btn-row" }, submit));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const file = input.files[0];
      if (!file) { error.textContent = "Choose a PDF file first."; input.focus(); return; }
      if (file.size > MAX_CV_MB * 1024 * 1024) { error.textContent = `A CV may be at most ${MAX_CV_MB} MB; this file is ${sizeWords(file.size)}.`; return; }
      submit.disabled = true;
      try {
        const saved = await put(`/interviews/${id}/cv`, file, {
          headers: { "Content-Type": "application/pdf", "X-Filename": encodeURIComponent(file.name) },
        });
        hooks.toast(cv ? "CV replaced." : "CV uploaded.", "success");
        show(saved, { open: true });
      } catch (err) {
        failed(err, error);
        submit.disabled = false;
      }
    });
    return form;
  };

  const show = (cv, { open = false } = {}) => {
    if (!cv) {
      render(body, h("p", { class: "muted" }, "No CV yet."), uploadForm(null));
      return;
    }
    const viewer = h("div", { class: "cv-viewer" });
    const toggle = h("button", { type: "button", class: "btn btn--secondary btn--small", "aria-expanded": "false" }, "Show CV");
    toggle.addEventListener("click", () => {
      if (viewer.firstChild) {
        render(viewer);
        toggle.textContent = "Show CV";
        toggle.setAttribute("aria-expanded", "false");
      } else {
        showViewer(cv, viewer, toggle);
      }
    });
    const download = h("a", { class: "btn btn--secondary btn--small", href: `${cv.url}?download=true`, download: cv.filename }, "Download");
    download.addEventListener("click", () => hooks.viewed("cv"));
    const error = h("p", { class: "form-error", role: "alert" });
    const remove = h("button", { type: "button", class: "btn btn--secondary btn--small" }, "Remove CV");
    remove.addEventListener("click", async () => {
      if (!window.confirm("Remove this CV? The file is deleted; the audit log keeps that it was removed.")) return;
      error.textContent = "";
      remove.disabled = true;
      try {
        await api(`/interviews/${id}/cv`, { method: "DELETE" });
        hooks.toast("CV removed.", "success");
        show(null);
      } catch (err) {
        failed(err, error);
        remove.disabled = false;
      }
    });
    render(body,
      h("p", { class: "cv-meta" }, h("strong", {}, cv.filename),
        h("span", { class: "muted small" }, ` · ${sizeWords(cv.size_bytes)} · added ${formatDateTime(cv.uploaded_at)}`)),
      h("div", { class: "btn-row" }, toggle, download, remove),
      error, viewer, uploadForm(cv));
    if (open) showViewer(cv, viewer, toggle);
  };

  render(body, h("p", { class: "muted" }, "Loading…"));
  get(`/interviews/${id}/cv`).then((cv) => show(cv)).catch((err) => {
    if (err.status === 401) { hooks.signedOut(); return; }
    render(body, h("p", { class: "form-error", role: "alert" }, err.message));
  });
  return card;
}

/** Recruiters' notes on the candidate, newest first; each author may delete their own. */
export function notesPanel(interview, hooks) {
  const id = interview.interview_id;
  const list = h("ol", { class: "notes", "aria-label": "Notes, newest first" });
  const text = h("textarea", { name: "note", rows: "3", maxlength: String(MAX_NOTE_CHARS) });
  const error = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "btn btn--secondary btn--block" }, "Add note");
  let notes = [];

  const failed = (err) => {
    if (err.status === 401) { hooks.signedOut(); return; }
    error.textContent = err.message;
  };

  const item = (note) => {
    const remove = note.mine
      ? h("button", { type: "button", class: "link-button small", "aria-label": `Delete your note of ${formatDateTime(note.created_at)}` }, "Delete")
      : null;
    remove?.addEventListener("click", async () => {
      error.textContent = "";
      try {
        await api(`/interviews/${id}/notes/${note.id}`, { method: "DELETE" });
        notes = notes.filter((n) => n.id !== note.id);
        draw();
        hooks.toast("Note deleted.", "success");
      } catch (err) {
        failed(err);
      }
    });
    return h("li", { class: "note" },
      h("p", { class: "note__meta small" }, h("strong", {}, note.author_name),
        h("span", { class: "muted" }, ` · ${formatDateTime(note.created_at)}`), remove ? " · " : null, remove),
      h("p", { class: "note__body" }, note.body));
  };

  const draw = () => {
    if (!notes.length) { render(list, h("li", { class: "muted" }, "No notes yet.")); return; }
    render(list, notes.map(item));
  };

  const form = h("form", { novalidate: true },
    field("New note", text, { hint: "Seen by your recruiting team only, never by the AI. The audit log records that a note was added or deleted, not its text." }),
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!text.value.trim()) { error.textContent = "Write something before adding the note."; text.focus(); return; }
    submit.disabled = true;
    try {
      const note = await post(`/interviews/${id}/notes`, { body: text.value });
      notes = [note, ...notes];
      text.value = "";
      draw();
    } catch (err) {
      failed(err);
    } finally {
      submit.disabled = false;
    }
  });

  render(list, h("li", { class: "muted" }, "Loading…"));
  get(`/interviews/${id}/notes`).then((rows) => { notes = rows; draw(); }).catch(failed);
  return h("aside", { class: "card notes-panel", "aria-labelledby": "notes-h" },
    h("h2", { id: "notes-h" }, "Notes"), form, list);
}
