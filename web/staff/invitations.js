// Invitations beyond one at a time: a role's open link (create, copy, disable; how many used
// it), and on a candidate's page their invitation: when it expires, the reminder, an extension.

import { api, get, post } from "/shared/api.js";
import { field, formatDateTime, h, render } from "/shared/dom.js";
import { chip, errorBox, toast } from "./app.js";

const LINK_STATES = {
  active: ["Open", "success"],
  disabled: ["Disabled", ""],
  expired: ["Expired", "warning"],
  full: ["Full: cap reached", "warning"],
};
const UNFINISHED = ["invited", "consented", "in_progress"];

function copyRow(url, label) {
  const input = h("input", { type: "text", readonly: true, value: url, "aria-label": label });
  const copy = h("button", { type: "button", class: "btn btn--secondary" }, "Copy link");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      input.select();
      document.execCommand("copy");
    }
    copy.textContent = "Copied";
    toast("Link copied.", "success");
    window.setTimeout(() => { copy.textContent = "Copy link"; }, 2500);
  });
  return h("div", { class: "copy-row" }, input, copy);
}

function optionalNumber(max) {
  return h("input", { type: "number", min: "1", max: String(max), step: "1", inputmode: "numeric" });
}

/** A role's open link: whoever opens it gives a name and an email and gets their own interview. */
export function openLinkSection(role, onChange) {
  const box = h("div", { "aria-live": "polite" });
  const load = async () => {
    try {
      render(box, linkBody(role, await get(`/roles/${role.id}/open-link`), load, onChange));
    } catch (err) {
      render(box, errorBox(err, load));
    }
  };
  load();
  return h("section", { class: "card open-link", "aria-labelledby": "open-h" },
    h("h2", { id: "open-h" }, "Open link"),
    h("p", { class: "muted small" },
      "One link to share on a job advert or a careers page. Whoever opens it gives a name and an email and gets an interview of their own, its link emailed to them; an email already invited to this role gets its own link again, never a second interview."),
    box);
}

function linkBody(role, link, reload, onChange) {
  if (!link) return createForm(role, null, reload);
  const [label, tone] = LINK_STATES[link.state] || [link.state, ""];
  const used = `${link.candidates} candidate${link.candidates === 1 ? "" : "s"} used it`
    + (link.max_candidates ? ` (cap ${link.max_candidates})` : "");
  const facts = h("p", { class: "row" }, chip(label, tone), h("span", {}, used),
    link.expires_at ? h("span", { class: "muted small" },
      `${link.state === "expired" ? "Expired" : "Open until"} ${formatDateTime(link.expires_at)}`) : null);
  if (link.state !== "active") return h("div", {}, facts, createForm(role, link, reload));
  const disable = h("button", { type: "button", class: "btn btn--secondary" }, "Disable the open link");
  disable.addEventListener("click", async () => {
    disable.disabled = true;
    try {
      await api(`/roles/${role.id}/open-link`, { method: "DELETE" });
      toast("The open link is disabled. Interviews made through it carry on.", "success");
      await reload();
      onChange();
    } catch (err) {
      toast(err.message, "danger");
      disable.disabled = false;
    }
  });
  return h("div", {}, facts,
    link.url ? copyRow(link.url, "Open link for this role") : h("p", { class: "muted small" },
      "The server's secret key has changed since this link was made: it still works, but cannot be shown again. Create a new one to copy it."),
    h("div", { class: "btn-row" }, disable), link.url ? null : createForm(role, link, reload));
}

function createForm(role, previous, reload) {
  const days = optionalNumber(365);
  const cap = optionalNumber(100000);
  const error = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "btn" },
    previous ? "Create a new open link" : "Create an open link");
  const form = h("form", { novalidate: true },
    h("div", { class: "inline-form" },
      field("Open for how many days (optional)", days, { hint: "Empty: until you disable it." }),
      field("At most how many candidates (optional)", cap, { hint: "Empty: no cap." }),
      submit),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const number = (input) => (input.value.trim() ? Number(input.value) : null);
    if ([days, cap].some((input) => input.value.trim() && !input.checkValidity())) {
      error.textContent = "Leave a field empty or give a whole number within its range.";
      return;
    }
    submit.disabled = true;
    try {
      await post(`/roles/${role.id}/open-link`, { expires_in_days: number(days), max_candidates: number(cap) });
      toast("Open link created: copy it and share it.", "success");
      await reload();
    } catch (err) {
      error.textContent = err.message;
      submit.disabled = false;
    }
  });
  return form;
}

/** The candidate's invitation: its expiry, the reminder, and more time with the link re-sent. */
export function invitationPanel(interview) {
  const panel = h("section", { class: "card invitation-panel", "aria-labelledby": "invitation-h" });
  const draw = () => render(panel, ...invitationBody(interview, draw));
  draw();
  return panel;
}

function invitationBody(interview, redraw) {
  const inv = interview.invitation;
  if (!inv) return [];
  const open = UNFINISHED.includes(interview.state);
  const when = formatDateTime(inv.expires_at);
  const status = !open ? h("p", { class: "muted small" }, `The invitation was valid until ${when}.`)
    : inv.expired ? h("p", {}, chip("Invitation expired", "warning"), ` The link expired on ${when}. The candidate can no longer answer, but can still see, download or delete their data.`)
      : h("p", {}, `The invitation expires on ${when}.`);
  return [
    h("h2", { id: "invitation-h" }, "Invitation"),
    status,
    inv.reminded_at ? h("p", { class: "muted small" }, `A reminder was emailed on ${formatDateTime(inv.reminded_at)}.`) : null,
    inv.via_open_link ? h("p", { class: "muted small" }, "The candidate came through the role's open link.") : null,
    open && !interview.data_requests?.deletion_due_at ? extendForm(interview, redraw) : null,
  ];
}

function extendForm(interview, redraw) {
  const days = h("input", { type: "number", min: "1", max: "90", step: "1", value: "7", inputmode: "numeric" });
  const reason = h("input", { type: "text", maxlength: "1000" });
  const error = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "btn btn--secondary" }, "Extend and email the link again");
  const form = h("form", { novalidate: true },
    field("More days to answer", days, { hint: "Counted from today, or from the current expiry if that is later." }),
    field("Why?", reason, { hint: "Required, logged." }),
    error, h("div", { class: "btn-row" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!days.checkValidity() || !days.value) { error.textContent = "Give a number of days from 1 to 90."; days.focus(); return; }
    if (reason.value.trim().length < 5) { error.textContent = "Give a reason of at least 5 characters."; reason.focus(); return; }
    submit.disabled = true;
    try {
      const out = await post(`/interviews/${interview.interview_id}/invitation/extend`,
        { days: Number(days.value), reason: reason.value.trim() });
      Object.assign(interview.invitation, { expires_at: out.expires_at, expired: false });
      toast(`Extended until ${formatDateTime(out.expires_at)}; the link was emailed to the candidate again.`, "success");
      redraw();
    } catch (err) {
      error.textContent = err.message;
      submit.disabled = false;
    }
  });
  return h("details", {}, h("summary", {}, "Give more time"), form);
}
