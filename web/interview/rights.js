// The candidate's data rights, from their own link: download everything held about them, ask
// for a review by a person, ask for their data to be deleted (after a confirmation that says
// what goes and by when). rightsSection() returns an element; the interview page places it.
// It works on an expired link too (the API allows it); the invite token header is set by api.js.

import * as sharedApi from "/shared/api.js";
import { field, formatDateTime, h, nextId, render } from "/shared/dom.js";

function longDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleDateString(undefined, { dateStyle: "long" });
}

function linkGone(err) {
  return err && err.status === 401
    ? "This link no longer opens your data. If you asked for your data to be deleted, it has been deleted."
    : err.message;
}

/** Save a Blob as a file through a temporary object URL (no inline script, CSP-safe). */
function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename });
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/**
 * The "Your data" section. `api` is {get, post, getBinary} from /shared/api.js (the default).
 */
export function rightsSection(api = sharedApi) {
  const headingId = nextId("rights");
  const status = h("div", { role: "status", "aria-live": "polite" });
  const panel = h("div", {});
  const error = h("p", { class: "form-error", role: "alert" });
  const state = { rights: null, gone: false };

  const download = h("button", { type: "button", class: "btn" }, "Download my data");
  const review = h("button", { type: "button", class: "btn btn--secondary" }, "Ask for a human review");
  const remove = h("button", { type: "button", class: "btn btn--secondary" }, "Ask to delete my data");
  const buttons = [download, review, remove];

  const showStatus = () => {
    const r = state.rights;
    if (!r) { render(status); return; }
    render(status,
      r.deletion_due_at ? h("p", { class: "notice notice--warning" },
        h("strong", {}, "You asked for your data to be deleted. "),
        `Everything about you will be deleted by ${longDate(r.deletion_due_at)}. Until then you can still download it.`) : null,
      r.human_review_requested_at ? h("p", { class: "notice notice--success" },
        `You asked for a review by a person on ${formatDateTime(r.human_review_requested_at)}. The recruiting team has been told.`) : null);
    remove.disabled = Boolean(r.deletion_due_at);
  };

  const fail = (err) => {
    error.textContent = linkGone(err);
    if (err && err.status === 401) {
      state.gone = true;
      for (const b of buttons) b.disabled = true;
    }
  };

  download.addEventListener("click", async () => {
    error.textContent = "";
    download.disabled = true;
    const label = download.textContent;
    download.textContent = "Preparing your download…";
    try {
      const out = await api.getBinary("/candidate/data");
      saveBlob(out.blob, `my-interview-data-${new Date().toISOString().slice(0, 10)}.zip`);
    } catch (err) {
      fail(err);
    } finally {
      download.textContent = label;
      download.disabled = state.gone;
    }
  });

  review.addEventListener("click", () => {
    const message = h("textarea", { rows: "4", maxlength: "2000" });
    const send = h("button", { type: "submit", class: "btn" }, "Send my request");
    const cancel = h("button", { type: "button", class: "btn btn--secondary" }, "Cancel");
    const form = h("form", { class: "stack", novalidate: true },
      h("h3", { tabindex: "-1" }, "Ask for a human review"),
      h("p", {}, "A person on the recruiting team will review your interview themselves, without relying on the AI assessment, and contact you about the outcome."),
      field("Anything you want them to know (optional)", message, { hint: "Up to 2000 characters." }),
      h("div", { class: "btn-row" }, send, cancel));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      send.disabled = true;
      try {
        state.rights = await api.post("/candidate/human-review", { message: message.value.trim() || null });
        render(panel);
        showStatus();
        review.focus();
      } catch (err) {
        fail(err);
        send.disabled = false;
      }
    });
    cancel.addEventListener("click", () => { render(panel); review.focus(); });
    render(panel, form);
    form.querySelector("h3").focus();
  });

  remove.addEventListener("click", () => {
    const days = state.rights ? state.rights.deletion_grace_days : 30;
    const by = new Date(Date.now() + days * 86400000).toISOString();
    const yes = h("button", { type: "button", class: "btn btn--danger" }, "Yes, delete my data");
    const no = h("button", { type: "button", class: "btn btn--secondary" }, "Keep my data");
    yes.addEventListener("click", async () => {
      error.textContent = "";
      yes.disabled = true;
      try {
        state.rights = await api.post("/candidate/deletion");
        render(panel);
        showStatus();
      } catch (err) {
        fail(err);
        yes.disabled = false;
      }
    });
    no.addEventListener("click", () => { render(panel); remove.focus(); });
    render(panel, h("div", { class: "notice notice--warning" },
      h("h3", { tabindex: "-1" }, "Delete your data?"),
      h("p", {}, "This deletes everything kept about you for this interview: your recordings, the transcripts of what you said, the scores and the explanation of them, your consent, any answers about yourself you gave, the recruiting team's decisions, and your name and email address."),
      h("p", {}, days > 0
        ? `It happens by ${longDate(by)} at the latest (within ${days} day${days === 1 ? "" : "s"}), and cannot be undone. Until then you can still download your data. Once it is deleted, this link stops working, and the recruiting team can no longer consider your application from this interview.`
        : "It happens within the hour, and cannot be undone. Once it is deleted, this link stops working, and the recruiting team can no longer consider your application from this interview."),
      h("p", { class: "muted" }, "A record that a deletion took place is kept, without your name, email or answers."),
      h("div", { class: "btn-row" }, yes, no)));
    panel.querySelector("h3").focus();
  });

  const section = h("section", { class: "card rights", "aria-labelledby": headingId },
    h("h2", { id: headingId }, "Your data"),
    h("p", {}, "You can download everything kept about you, with a plain explanation of how your answers were assessed; ask for a person to review your interview; or ask for your data to be deleted."),
    status,
    h("div", { class: "btn-row" }, buttons),
    error,
    panel);

  api.get("/candidate/rights")
    .then((rights) => { state.rights = rights; showStatus(); })
    .catch((err) => { if (err && err.status === 401) fail(err); });
  return section;
}
