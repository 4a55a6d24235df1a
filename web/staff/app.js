// Parley for staff: sign-in, then a small hash-routed single page.
//   #/roles                 roles list (admin, recruiter)
//   #/roles/<id>            script, thresholds, invitations, candidates
//   #/roles/new, #/roles/<id>/edit   the role editor with its band preview (role-editor.js)
//   #/interviews/<id>       a candidate's answers, recordings, transcripts and the decision form,
//                           their CV and recruiters' notes (cv-notes.js)
//   #/rubrics, #/questions  the rubric and the question bank (everyone)
//   #/users, #/audit        administration (admin)
//   #/webhooks              webhooks to an applicant tracking system (admin; webhooks.js)
//   #/calibration[/<batch>], #/label/<assignment>, #/training/<run>   the psychologists'
//                           calibration workspace (admin, psychologist; calibration*.js)

import { ApiError, get, post, put, setCsrfToken } from "/shared/api.js";
import { announce, clock, durationWords, field, formatDateTime, h, render } from "/shared/dom.js";
import {
  ANSWER_STATES, BANDS, GATES, INTERVIEW_STATES, QUALITY_FLAGS, ROLES, STATUSES, labelOf, toneOf,
} from "/shared/labels.js";
import { cvPanel, notesPanel } from "./cv-notes.js";
import { viewRoleEditor } from "./role-editor.js";
import { viewWebhooks } from "./webhooks.js";
import { viewCalibration } from "./calibration.js";
import { viewBatch } from "./calibration-batch.js";
import { viewLabel } from "./calibration-label.js";
import { viewTraining } from "./calibration-training.js";
import { invitationPanel, openLinkSection } from "./invitations.js";

const main = document.getElementById("main");
const toastEl = document.getElementById("toast");
const navEl = document.getElementById("nav");
const whoEl = document.getElementById("who");
const whoName = document.getElementById("who-name");
const orgName = document.getElementById("org-name");
const scoringNote = document.getElementById("scoring-note");

const ALL = ["admin", "recruiter", "psychologist"];
const RECRUITING = ["admin", "recruiter"];
const ADMIN = ["admin"];
const CALIBRATING = ["admin", "psychologist"];

const NAV = [
  { href: "#/roles", label: "Roles", roles: RECRUITING },
  { href: "#/rubrics", label: "Rubric", roles: ALL },
  { href: "#/questions", label: "Question bank", roles: ALL },
  { href: "#/calibration", label: "Calibration", roles: CALIBRATING },
  { href: "#/users", label: "Users", roles: ADMIN },
  { href: "#/audit", label: "Audit log", roles: ADMIN },
  { href: "#/webhooks", label: "Webhooks", roles: ADMIN },
];

const ROUTES = [
  { re: /^\/roles$/, view: viewRoles, roles: RECRUITING },
  { re: /^\/roles\/new$/, view: () => viewRoleEditor(null), roles: RECRUITING },
  { re: /^\/roles\/([\w-]+)\/edit$/, view: viewRoleEditor, roles: RECRUITING },
  { re: /^\/roles\/([\w-]+)$/, view: viewRole, roles: RECRUITING },
  { re: /^\/roles\/([\w-]+)\/fairness$/, view: viewFairness, roles: ADMIN },
  { re: /^\/interviews\/([\w-]+)$/, view: viewInterview, roles: RECRUITING },
  { re: /^\/rubrics$/, view: viewRubrics, roles: ALL },
  { re: /^\/questions$/, view: viewQuestions, roles: ALL },
  { re: /^\/users$/, view: viewUsers, roles: ADMIN },
  { re: /^\/audit$/, view: viewAudit, roles: ADMIN },
  { re: /^\/webhooks$/, view: viewWebhooks, roles: ADMIN },
  { re: /^\/calibration$/, view: viewCalibration, roles: CALIBRATING },
  { re: /^\/calibration\/([\w-]+)$/, view: viewBatch, roles: CALIBRATING },
  { re: /^\/label\/([\w-]+)$/, view: viewLabel, roles: CALIBRATING },
  { re: /^\/training\/([\w-]+)$/, view: viewTraining, roles: CALIBRATING },
];

const state = {
  me: null,            // {user, organisation, csrf_token}
  rubrics: null,       // cached GET /rubrics
  users: null,         // cached GET /users (admin), for naming audit actors
};
// What each reviewer opened, per interview, for the "viewed" list sent with a decision.
const viewed = new Map();
let routeSeq = 0;

// ---------------------------------------------------------------- helpers

export function toast(message, tone = "info") {
  announce(toastEl, message, tone);
  window.clearTimeout(toast.timer);
  toast.timer = window.setTimeout(() => { toastEl.textContent = ""; }, 6000);
}

export function chip(text, tone = "", extra = "") {
  return h("span", { class: ["chip", tone && `chip--${tone}`, extra] }, text);
}

function demoTag() {
  return h("span", { class: "chip tag-demo", title: "The answers are synthesised speech, not a real person" },
    "synthesised demo");
}

export function errorBox(err, retry) {
  return h("div", { class: "notice notice--danger", role: "alert" },
    h("p", {}, err.message || "Something went wrong."),
    retry ? h("button", { type: "button", class: "btn btn--secondary btn--small", onclick: retry }, "Try again") : null);
}

export function pageHead(title, { crumbs = [], lead, extra } = {}) {
  return h("div", { class: "page-head" },
    crumbs.length ? h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" },
      crumbs.flatMap(([label, href], i) => [i ? " / " : "", h("a", { href }, label)])) : null,
    extra || h("h1", { tabindex: "-1" }, title),
    lead ? h("p", {}, lead) : null);
}

export function table(headers, rows, { caption, stack = true, empty = "Nothing here yet." } = {}) {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h("div", { class: "table-wrap" },
    h("table", { class: stack ? "table-stack" : "" },
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, headers.map((hd) => h("th", { scope: "col" }, hd)))),
      h("tbody", {}, rows.map((cells) => h("tr", {},
        cells.map((cell, i) => h("td", { "data-label": headers[i] }, cell)))))));
}

export async function rubrics() {
  if (!state.rubrics) state.rubrics = await get("/rubrics");
  return state.rubrics;
}

/** competency key -> name, from the role's rubric version (or any version). */
async function competencyNames(rubricVersionId) {
  const names = {};
  try {
    const versions = await rubrics();
    const ordered = [...versions].sort((a, b) => (a.id === rubricVersionId ? 1 : 0) - (b.id === rubricVersionId ? 1 : 0));
    for (const v of ordered) for (const c of v.competencies) names[c.key] = c.name;
  } catch { /* fall back to keys */ }
  return (key) => names[key] || key.replace(/[-_]/g, " ");
}

/** The rubric's anchored levels nearest a score's level, one per indicator: what it matched. */
function matchedAnchors(score) {
  const version = (state.rubrics || []).find((v) => v.id === score.rubric_version_id);
  const competency = version?.competencies.find((c) => c.key === score.competency_key);
  if (!competency || score.level == null) return null;
  const level = Math.round(score.level);
  const rows = competency.indicators.map((ind) => ({ ind, lv: ind.levels.find((l) => l.level === level) }))
    .filter((x) => x.lv);
  if (!rows.length) return null;
  return h("details", { class: "anchors" },
    h("summary", {}, `Rubric anchors at level ${level}`),
    h("ul", {}, rows.map(({ ind, lv }) => h("li", {},
      h("span", { class: "level-label" }, `${ind.text} · ${lv.label}: `), lv.anchor))));
}

function markViewed(interviewId, item) {
  if (!viewed.has(interviewId)) viewed.set(interviewId, new Set());
  const set = viewed.get(interviewId);
  if (set.has(item)) return;
  set.add(item);
  document.dispatchEvent(new CustomEvent("parley:viewed", { detail: { interviewId } }));
}

function isRecruiting() { return RECRUITING.includes(state.me?.user.role); }

/** The signed-in staff member ({id, name, email, role}), for the feature modules. */
export function currentUser() { return state.me?.user || null; }

/** Draw the current page again, from fresh data. */
export function redraw() { route(); }

/** After a promotion: the note on every screen names the model that now scores. */
export async function refreshScoringNote() {
  try {
    state.me = { ...state.me, ...(await get("/me")) };
    renderScoringNote(state.me.scoring_model);
  } catch { /* the note stays as it was until the next sign-in */ }
}

// ---------------------------------------------------------------- session and chrome

async function boot() {
  window.addEventListener("hashchange", route);
  document.getElementById("sign-out").addEventListener("click", signOut);
  try {
    state.me = await get("/me");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      showSignIn();
      return;
    }
    render(main, errorBox(err, () => window.location.reload()));
    return;
  }
  signedIn();
}

function signedIn() {
  setCsrfToken(state.me.csrf_token);
  orgName.textContent = `· ${state.me.organisation}`;
  render(whoName, h("strong", {}, state.me.user.name), ` · ${labelOf(ROLES, state.me.user.role)}`);
  whoEl.hidden = false;
  renderScoringNote(state.me.scoring_model);
  renderNav();
  route();
}

/** Every screen says whether the scores come from a psychologist-calibrated model. */
function renderScoringNote(model) {
  const text = model?.calibrated
    ? `Scores come from ${model.name}, calibrated by psychologists. They inform people's decisions; nothing is decided automatically.`
    : "Scores come from an uncalibrated demo model, trained on example answers the Parley team wrote; psychologists have not calibrated it yet. Treat them as a demonstration. Nothing is decided automatically.";
  render(scoringNote.firstElementChild, text);
  scoringNote.classList.toggle("scoring-note--demo", !model?.calibrated);
  scoringNote.hidden = false;
}

function bandChip(band) {
  return band ? chip(labelOf(BANDS, band), toneOf(BANDS, band)) : chip("No threshold set", "", "chip--outline");
}

function signedOut() {
  state.me = null;
  state.rubrics = null;
  state.users = null;
  viewed.clear();
  setCsrfToken(null);
  navEl.hidden = true;
  whoEl.hidden = true;
  scoringNote.hidden = true;
  orgName.textContent = "";
}

async function signOut() {
  try { await post("/auth/logout"); } catch { /* signed out either way */ }
  signedOut();
  showSignIn("You have signed out.");
}

function renderNav() {
  const role = state.me.user.role;
  const items = NAV.filter((item) => item.roles.includes(role));
  render(navEl, h("ul", {}, items.map((item) => h("li", {}, h("a", { href: item.href }, item.label)))));
  navEl.hidden = false;
  markNav();
}

function markNav() {
  const hash = window.location.hash || "";
  for (const a of navEl.querySelectorAll("a")) {
    const href = a.getAttribute("href");
    const current = hash === href || hash.startsWith(`${href}/`)
      || (href === "#/roles" && hash.startsWith("#/interviews/"))
      || (href === "#/calibration" && /^#\/(label|training)\//.test(hash));
    if (current) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
}

function defaultRoute() {
  if (isRecruiting()) return "#/roles";
  return state.me?.user.role === "psychologist" ? "#/calibration" : "#/rubrics";
}

function showSignIn(message) {
  signedOut();
  document.title = "Sign in · Parley";
  const error = h("p", { class: "form-error", role: "alert" });
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, spellcheck: "false" });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "btn btn--block" }, "Sign in");
  const form = h("form", { class: "card", novalidate: true }, field("Email", email), field("Password", password), error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!email.value.trim() || !password.value) {
      error.textContent = "Enter your email and password.";
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Signing in…";
    try {
      const out = await post("/auth/login", { email: email.value.trim(), password: password.value });
      state.me = { user: out.user, organisation: out.organisation, csrf_token: out.csrf_token };
      password.value = "";
      signedIn();
    } catch (err) {
      error.textContent = err.message;
      submit.disabled = false;
      submit.textContent = "Sign in";
      password.focus();
    }
  });
  render(main, h("div", { class: "signin" },
    h("h1", { tabindex: "-1" }, "Sign in to Parley"),
    message ? h("p", { class: "notice", role: "status" }, message) : null,
    form));
  email.focus();
}

// ---------------------------------------------------------------- router

async function route() {
  if (!state.me) return;
  const seq = ++routeSeq;
  const path = (window.location.hash || "").replace(/^#/, "");
  if (!path || path === "/") {
    window.location.replace(defaultRoute());
    return;
  }
  markNav();
  const match = ROUTES.map((r) => ({ r, m: path.match(r.re) })).find((x) => x.m);
  if (!match) {
    render(main, pageHead("Page not found"), h("p", {}, h("a", { href: defaultRoute() }, "Go to the start page")));
    return;
  }
  if (!match.r.roles.includes(state.me.user.role)) {
    render(main, pageHead("Not available to your role"),
      h("p", {}, "Your role does not give access to this page. "), h("a", { href: defaultRoute() }, "Go to the start page"));
    return;
  }
  render(main, h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), " Loading…"));
  try {
    const { title, node } = await match.r.view(...match.m.slice(1));
    if (seq !== routeSeq) return;
    document.title = `${title} · Parley`;
    render(main, node);
    const heading = main.querySelector("h1");
    (heading || main).focus({ preventScroll: false });
    window.scrollTo(0, 0);
  } catch (err) {
    if (seq !== routeSeq) return;
    if (err instanceof ApiError && err.status === 401) {
      showSignIn("Your session has ended. Sign in again to continue.");
      return;
    }
    render(main, pageHead("This page could not be loaded"), errorBox(err, route));
  }
}

// ---------------------------------------------------------------- roles

async function viewRoles() {
  const roles = await get("/roles");
  const cards = roles.map((role) => h("li", { class: "card role-card" },
    h("h2", {}, h("a", { href: `#/roles/${role.id}` }, role.title)),
    role.description ? h("p", { class: "muted" }, role.description) : null,
    h("ul", { class: "settings-list", "aria-label": "Interview settings" },
      h("li", {}, chip(`${role.script.length} questions`)),
      h("li", {}, chip(`Think ${durationWords(role.think_seconds)}`)),
      h("li", {}, chip(`Answer ${clock(role.answer_seconds)}`)),
      role.ai_scoring_paused ? h("li", {}, chip("AI scoring paused", "warning")) : null)));
  return {
    title: "Roles",
    node: h("div", {},
      pageHead("Roles", { lead: "Each role has one script of questions, asked the same way to every candidate." }),
      h("p", { class: "btn-row" }, h("a", { class: "btn", href: "#/roles/new" }, "New role")),
      roles.length ? h("ul", { class: "role-list" }, cards) : h("p", { class: "muted" }, "No roles yet.")),
  };
}

async function viewRole(roleId) {
  const role = await get(`/roles/${roleId}`);
  const competency = await competencyNames(role.rubric_version_id);

  const script = h("ol", { class: "script" }, [...role.script].sort((a, b) => a.position - b.position)
    .map((item) => h("li", {}, h("div", {},
      h("div", {}, item.question.text),
      chip(competency(item.question.competency_key), "info")))));

  const thresholds = table(["Competency", "Required level", "Exceeds level"],
    role.thresholds.map((t) => [competency(t.competency_key), String(t.required_level), String(t.exceeds_level)]),
    { empty: "No thresholds set.", stack: false });

  const candidatesBox = h("div", {});
  const node = h("div", {},
    pageHead(role.title, { crumbs: [["Roles", "#/roles"]], lead: role.description }),
    h("p", { class: "row" }, h("a", { class: "btn btn--secondary", href: `#/roles/${role.id}/edit` }, "Edit role"),
      role.candidates_started ? h("span", { class: "muted small" }, "Candidates have started: the questions, their order, the rubric version and the retakes are fixed.") : null),
    state.me.user.role === "admin"
      ? h("p", {}, h("a", { href: `#/roles/${role.id}/fairness` }, "Adverse-impact report for this role")) : null,
    h("ul", { class: "settings-list", "aria-label": "Interview settings" },
      h("li", {}, chip(`Think time ${durationWords(role.think_seconds)}`)),
      h("li", {}, chip(`Answer time ${durationWords(role.answer_seconds)}`)),
      h("li", {}, chip(`Retakes ${role.retakes}`)),
      h("li", {}, feedbackToggle(role)),
      role.ai_scoring_paused ? h("li", {}, chip("AI scoring paused", "warning")) : null),
    isRecruiting() ? aiScoringSwitch(role) : null,
    h("div", { class: "grid-2" },
      h("section", { class: "card", "aria-labelledby": "script-h" },
        h("h2", { id: "script-h" }, "Interview script"), script),
      h("section", { class: "card", "aria-labelledby": "thr-h" },
        h("h2", { id: "thr-h" }, "Thresholds"),
        h("p", { class: "muted small" },
          "Levels on the rubric's 1–5 scale. Below the required level reads “not the best fit in this competency”; "
          + "at or above the exceeds level is shown as a strength."),
        thresholds)),
    isRecruiting() ? inviteSection(role, () => loadCandidates(role, candidatesBox)) : null,
    isRecruiting() ? openLinkSection(role, () => loadCandidates(role, candidatesBox)) : null,
    isRecruiting() ? h("section", { "aria-labelledby": "cand-h" },
      h("h2", { id: "cand-h" }, "Candidates"),
      h("p", { class: "muted small" }, "Every candidate stays visible here. Statuses change only when a person records a decision."),
      h("div", { class: "btn-row" }, h("button", { type: "button", class: "btn btn--secondary",
        onclick: () => download(`/roles/${role.id}/candidates.csv`, `candidates-${role.id}.csv`) }, "Export the ranking (CSV)")),
      candidatesBox) : null);
  if (isRecruiting()) await loadCandidates(role, candidatesBox);
  return { title: role.title, node };
}

/** Pause or resume AI scoring for the role, with a reason; resuming scores what waited. */
function aiScoringSwitch(role) {
  const reason = h("input", { type: "text", maxlength: "2000" });
  const error = h("p", { class: "form-error", role: "alert" });
  const button = h("button", { type: "submit", class: "btn btn--secondary" },
    role.ai_scoring_paused ? "Resume AI scoring" : "Pause AI scoring");
  const form = h("form", { novalidate: true, class: "ai-switch" },
    field(role.ai_scoring_paused ? "Why resume AI scoring?" : "Why pause AI scoring?", reason,
      { hint: "Required, logged. While paused, answers are transcribed but not scored; on resuming they are scored." }),
    error, h("div", { class: "btn-row" }, button));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (reason.value.trim().length < 5) { error.textContent = "Give a reason of at least 5 characters."; reason.focus(); return; }
    button.disabled = true;
    try {
      await put(`/roles/${role.id}/ai-scoring`, { paused: !role.ai_scoring_paused, reason: reason.value.trim() });
      toast(role.ai_scoring_paused ? "AI scoring resumed." : "AI scoring paused for this role.", "success");
      route();
    } catch (err) {
      error.textContent = err.message;
      button.disabled = false;
    }
  });
  return h("details", { class: "card" }, h("summary", {}, role.ai_scoring_paused ? "AI scoring is paused: resume it" : "Pause AI scoring for this role"), form);
}

/** Whether candidates get a report of their strengths some days after the interview. */
function feedbackToggle(role) {
  const label = () => (role.feedback_enabled ? `Feedback to candidates after ${role.feedback_delay_days} days` : "No feedback to candidates");
  const text = chip(label());
  if (!isRecruiting()) return text;
  const button = h("button", { type: "button", class: "link-button" }, role.feedback_enabled ? "Turn off" : "Turn on");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const out = await put(`/roles/${role.id}/feedback`, { enabled: !role.feedback_enabled, delay_days: role.feedback_delay_days });
      Object.assign(role, out);
      text.textContent = label();
      button.textContent = role.feedback_enabled ? "Turn off" : "Turn on";
      toast(role.feedback_enabled ? "Candidates will get a report of their strengths, never a score." : "Feedback reports are off for this role.", "success");
    } catch (err) {
      toast(err.message, "danger");
    } finally {
      button.disabled = false;
    }
  });
  return h("span", { class: "row" }, text, button);
}

function inviteSection(role, onInvited) {
  const name = h("input", { type: "text", name: "name", autocomplete: "off", required: true, maxlength: "200" });
  const email = h("input", { type: "email", name: "email", autocomplete: "off", required: true, spellcheck: "false" });
  const submit = h("button", { type: "submit", class: "btn" }, "Create invitation link");
  const error = h("p", { class: "form-error", role: "alert" });
  const result = h("div", { class: "invite-result", "aria-live": "polite" });
  const form = h("form", { novalidate: true },
    h("div", { class: "inline-form" }, field("Candidate's name", name), field("Candidate's email", email), submit),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    name.removeAttribute("aria-invalid");
    email.removeAttribute("aria-invalid");
    if (!name.value.trim()) {
      name.setAttribute("aria-invalid", "true");
      error.textContent = "Enter the candidate's name.";
      name.focus();
      return;
    }
    if (!email.value.trim() || !email.checkValidity()) {
      email.setAttribute("aria-invalid", "true");
      error.textContent = "Enter a valid email address.";
      email.focus();
      return;
    }
    submit.disabled = true;
    try {
      const out = await post(`/roles/${role.id}/invitations`, { name: name.value.trim(), email: email.value.trim() });
      render(result, inviteResult(name.value.trim(), out));
      name.value = "";
      email.value = "";
      result.querySelector("input").focus();
      result.querySelector("input").select();
      onInvited();
    } catch (err) {
      error.textContent = err.message;
    } finally {
      submit.disabled = false;
    }
  });
  return h("section", { class: "card invite", "aria-labelledby": "inv-h" },
    h("h2", { id: "inv-h" }, "Invite a candidate"),
    h("p", { class: "muted small" }, "Creates a personal interview link for this role and emails it to the candidate."),
    form, result, batchInvite(role, onInvited));
}

/** Invite everyone in a CSV (name and email columns): all are created and emailed, or none. */
function batchInvite(role, onInvited) {
  const file = h("input", { type: "file", accept: ".csv,text/csv" });
  const error = h("div", { class: "form-error", role: "alert" });
  const result = h("div", { "aria-live": "polite" });
  const send = h("button", { type: "submit", class: "btn btn--secondary" }, "Invite everyone in the file");
  const form = h("form", { novalidate: true },
    field("CSV file with name and email columns", file), error, h("div", { class: "btn-row" }, send));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    render(error);
    if (!file.files.length) { render(error, "Choose a CSV file first."); file.focus(); return; }
    send.disabled = true;
    try {
      const rows = await post(`/roles/${role.id}/invitations/batch`, file.files[0], { headers: { "Content-Type": "text/csv" } });
      render(result, h("div", { class: "notice notice--success" },
        h("p", {}, h("strong", {}, `${rows.length} invitation${rows.length === 1 ? "" : "s"} created and emailed.`),
          " The links are shown only this once."),
        table(["Name", "Email", "Link"], rows.map((r) => [r.name, r.email, h("code", {}, r.invite_url)]), { stack: true })));
      file.value = "";
      onInvited();
    } catch (err) {
      render(error, h("p", {}, err.message), (err.details.problems || []).length
        ? h("ul", {}, err.details.problems.map((p) => h("li", {}, p))) : null);
    } finally {
      send.disabled = false;
    }
  });
  return h("details", { class: "batch-invite" }, h("summary", {}, "Invite many from a CSV file"), form, result);
}

function inviteResult(who, out) {
  const input = h("input", { type: "text", readonly: true, value: out.invite_url, "aria-label": `Invitation link for ${who}` });
  const copy = h("button", { type: "button", class: "btn btn--secondary" }, "Copy link");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(out.invite_url);
    } catch {
      input.select();
      document.execCommand("copy");
    }
    copy.textContent = "Copied";
    toast("Invitation link copied.", "success");
    window.setTimeout(() => { copy.textContent = "Copy link"; }, 2500);
  });
  return h("div", { class: "notice notice--success" },
    h("p", {}, h("strong", {}, `Invitation created for ${who}.`),
      " It has been emailed to the candidate. It is shown only this once (Parley keeps only a fingerprint of it), in case you want to send it yourself too."),
    h("div", { class: "copy-row" }, input, copy),
    h("p", { class: "hint" }, `The link works until ${formatDateTime(out.expires_at)}.`));
}

export function processingSummary(answers, total) {
  if (!answers.length) return { text: "No answers yet", tone: "" };
  const by = (s) => answers.filter((a) => a.state === s);
  const parts = [`${by("transcribed").length}/${total} transcribed`];
  let tone = "";
  const waiting = by("uploaded").length + by("transcribing").length;
  if (waiting) parts.push(`${waiting} waiting for processing`);
  if (by("receiving").length) parts.push(`${by("receiving").length} uploading`);
  if (by("no_speech").length) { parts.push(`${by("no_speech").length} with no speech`); tone = "warning"; }
  const failed = by("failed");
  if (failed.length) {
    parts.push(`${failed.length} failed: ${failed[0].failure_reason || failed[0].failure_code || "no reason given"}`);
    tone = "failed";
  }
  return { text: parts.join(" · "), tone };
}

// The list's filters per role, kept while the page is open so "back" finds them as they were.
const listFilters = new Map();
const PAGE_SIZE = 50;

/** The ranked list: filters, search and sort run on the server, a page at a time. */
async function loadCandidates(role, box) {
  const filters = listFilters.get(role.id) || { q: "", state: "", status: "", attention: "", sort: "fit", bands: {} };
  listFilters.set(role.id, filters);
  const competency = await competencyNames(role.rubric_version_id);
  const count = h("p", { class: "muted small", role: "status", "aria-live": "polite" });
  const results = h("div", {});
  const more = h("button", { type: "button", class: "btn btn--secondary", hidden: true }, "Show more candidates");
  let cursor = null;
  let seq = 0;

  const select = (label, key, options, target = filters) => {
    const control = h("select", { name: key, onchange: () => { target[key] = control.value; reload(); } },
      options.map(([value, text]) => h("option", { value, selected: (target[key] || "") === value }, text)));
    return field(label, control);
  };
  const search = h("input", { type: "search", name: "q", value: filters.q, autocomplete: "off",
    placeholder: "Name or email" });
  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { filters.q = search.value; reload(); }, 250);
  });
  const bandOptions = [["", "Any"], ["below", labelOf(BANDS, "below")], ["meets", labelOf(BANDS, "meets")], ["exceeds", labelOf(BANDS, "exceeds")]];
  const bar = h("form", { class: "filter-bar", role: "search", "aria-label": "Filter candidates",
    onsubmit: (e) => { e.preventDefault(); clearTimeout(typing); filters.q = search.value; reload(); } },
    field("Search", search),
    select("Sort by", "sort", [["fit", "Overall fit, best first"], ["newest", "Newest invitation first"], ["name", "Name, A to Z"]]),
    select("Interview", "state", [["", "Any"], ...Object.entries(INTERVIEW_STATES)]),
    select("Status", "status", [["", "Any"], ...Object.entries(STATUSES)]),
    select("Needs attention", "attention", [["", "Any"], ["human_review", "Asked for a human review"],
      ["deletion", "Asked for deletion"], ["failed", "An answer failed processing"]]),
    role.thresholds.map((t) => select(competency(t.competency_key), t.competency_key, bandOptions, filters.bands)),
    h("button", { type: "button", class: "btn btn--ghost", onclick: () => {
      Object.assign(filters, { q: "", state: "", status: "", attention: "", sort: "fit", bands: {} });
      loadCandidates(role, box);
    } }, "Clear filters"));

  function query() {
    const params = new URLSearchParams({ sort: filters.sort, limit: String(PAGE_SIZE) });
    for (const key of ["q", "state", "status", "attention"]) if (filters[key]) params.set(key, filters[key]);
    for (const [key, band] of Object.entries(filters.bands)) if (band) params.append("band", `${key}:${band}`);
    if (cursor) params.set("cursor", cursor);
    return params;
  }

  async function fetchPage(append) {
    const mine = ++seq;
    more.disabled = true;
    try {
      const page = await get(`/roles/${role.id}/candidates?${query()}`);
      if (mine !== seq) return;
      const narrowed = filters.q || filters.state || filters.status || filters.attention || Object.values(filters.bands).some(Boolean);
      if (!append) {
        const say = (total, capped) => {
          const n = `${capped ? "More than " : ""}${total.toLocaleString("en")} candidate${total === 1 && !capped ? "" : "s"}`;
          count.textContent = narrowed ? `${n} match these filters. Clear them to see everyone.` : `${n} in this role.`;
        };
        say(page.total, page.total_capped);
        // The page counts up to 1,000; the exact figure follows without holding the page up.
        if (page.total_capped) {
          const params = query();
          for (const key of ["sort", "limit", "cursor"]) params.delete(key);
          get(`/roles/${role.id}/candidates/count?${params}`)
            .then((out) => { if (mine === seq) say(out.total, false); })
            .catch(() => { /* the lower bound stays */ });
        }
      }
      const rows = page.items.map((row) => candidateRow(row, role.script.length));
      if (append) {
        results.querySelector("tbody")?.append(...rows.map((cells) => h("tr", {}, cells.map((c, i) =>
          h("td", { "data-label": CANDIDATE_COLUMNS[i] }, c)))));
      } else {
        render(results, table(CANDIDATE_COLUMNS, rows, { empty: narrowed ? "No candidate matches these filters." : "No candidates invited yet." }));
      }
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      if (mine === seq) render(results, errorBox(err, () => reload()));
    } finally {
      more.disabled = false;
    }
  }
  function reload() { cursor = null; return fetchPage(false); }
  more.addEventListener("click", () => fetchPage(true));

  render(box, bar, count, results, h("div", { class: "btn-row" }, more));
  await reload();
}

const CANDIDATE_COLUMNS = ["Candidate", "Fit", "Competencies", "Interview", "Processing", "Status"];

function candidateRow(row, questions) {
  const summary = processingSummary(row.answers, questions);
  return [
    h("div", { class: "candidate-cell" },
      h("a", { class: "candidate-name", href: `#/interviews/${row.interview_id}` }, row.candidate_name),
      row.is_synthetic ? demoTag() : null,
      h("span", { class: "muted small" }, row.candidate_email),
      row.deletion_due_at ? chip(`Deletion requested, due ${formatDate(row.deletion_due_at)}`, "danger") : null,
      row.human_review_requested_at ? chip("Asked for a human review", "warning") : null,
      row.invitation_expired ? chip("Invitation expired", "warning")
        : row.invitation_expires_at && ["invited", "consented", "in_progress"].includes(row.state)
          ? h("span", { class: "muted small" }, `Invitation expires ${formatDate(row.invitation_expires_at)}`) : null),
    row.fit == null ? h("span", { class: "muted small" }, "not scored yet") : h("strong", {}, `${Math.round(row.fit)}`),
    h("div", { class: "row chips" }, (row.competencies || []).map((c) =>
      h("span", { class: ["chip", `chip--${toneOf(BANDS, c.band) || "plain"}`], title: `${labelOf(BANDS, c.band)} · ${Math.round(c.score)}/100${c.overridden ? " · set by a person" : ""}` },
        `${c.key.replace(/_/g, " ")}: ${c.band || `${Math.round(c.score)}/100, no threshold set`}${c.overridden ? " (override)" : ""}`))),
    chip(labelOf(INTERVIEW_STATES, row.state), toneOf(INTERVIEW_STATES, row.state)),
    h("span", { class: summary.tone ? `processing--${summary.tone}` : "" }, summary.text),
    chip(labelOf(STATUSES, row.status), "", "chip--outline"),
  ];
}

// ---------------------------------------------------------------- one candidate

async function viewInterview(interviewId) {
  const interview = await get(`/interviews/${interviewId}`);
  let role = null;
  try { role = await get(`/roles/${interview.role_id}`); } catch { /* order by arrival instead */ }
  const competency = await competencyNames(role?.rubric_version_id);
  const script = role ? [...role.script].sort((a, b) => a.position - b.position) : [];
  const total = script.length || interview.answers.length;
  const byQuestion = new Map(interview.answers.map((a) => [a.question_id, a]));
  const items = script.length
    ? script.map((item, i) => ({ n: i + 1, question: item.question, answer: byQuestion.get(item.question.id) }))
    : interview.answers.map((a, i) => ({ n: i + 1, question: { text: a.question_text, competency_key: a.competency_key }, answer: a }));

  const statusChip = chip(labelOf(STATUSES, interview.status), "", "chip--outline");
  const head = h("div", {},
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" },
      h("a", { href: "#/roles" }, "Roles"), " / ",
      role ? h("a", { href: `#/roles/${role.id}` }, role.title) : "Role"),
    h("div", { class: "cand-head" },
      h("h1", { tabindex: "-1" }, interview.candidate_name),
      interview.is_synthetic ? demoTag() : null),
    h("p", { class: "row" },
      h("span", { class: "muted" }, interview.candidate_email),
      chip(labelOf(INTERVIEW_STATES, interview.state), toneOf(INTERVIEW_STATES, interview.state)),
      h("span", {}, "Status: ", statusChip)));

  const answers = h("div", { class: "answers" },
    items.map((item) => answerCard(interview.interview_id, item, total, competency)));
  const summary = competencySummary(interview, competency);

  const node = h("div", {},
    head,
    interview.is_synthetic ? h("p", { class: "notice" },
      "Demo candidate: these answers are synthesised speech made for demonstration, not a real person's interview.") : null,
    interview.state === "human_review" ? h("p", { class: "notice notice--warning" },
      "This candidate declined the AI assessment and asked for a human-only review. Contact them about the next step.") : null,
    dataRequestNotices(interview.data_requests),
    summary,
    candidateFiles(interview),
    h("div", { class: "review-layout" },
      h("section", { "aria-label": "Answers" }, answers),
      h("div", {}, decisionPanel(interview, statusChip), accommodationsPanel(interview),
        invitationPanel(interview))));
  return { title: interview.candidate_name, node };
}

/** The CV and the notes recruiters keep with the candidate (cv-notes.js). */
function candidateFiles(interview) {
  const hooks = {
    toast,
    viewed: (item) => markViewed(interview.interview_id, item),
    signedOut: () => showSignIn("Your session has ended. Sign in again to continue."),
  };
  return h("div", { class: "review-layout" }, cvPanel(interview, hooks), notesPanel(interview, hooks));
}

function formatDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleDateString(undefined, { dateStyle: "medium" });
}

/** What the candidate asked for from their link: deletion (with its due date), a person's review. */
function dataRequestNotices(requests) {
  if (!requests) return null;
  return [
    requests.deletion_due_at ? h("p", { class: "notice notice--danger", role: "status" },
      h("strong", {}, `Deletion requested, due ${formatDate(requests.deletion_due_at)}. `),
      `The candidate asked on ${formatDate(requests.deletion_requested_at)} for their data to be deleted. By the due date Parley deletes this interview and everything about them: recordings, transcripts, scores, consents, decisions, and their name and email.`) : null,
    requests.human_review_requested_at ? h("div", { class: "notice notice--warning", role: "status" },
      h("p", {}, h("strong", {}, "The candidate asked for a human review"), ` on ${formatDateTime(requests.human_review_requested_at)}. `,
        "Review their answers yourself rather than relying on the AI scores, and contact them about the outcome."),
      requests.human_review_message ? h("blockquote", {}, requests.human_review_message) : null) : null,
  ];
}

const ACCOMMODATION_CLOSED = ["completed", "expired"];

/** Extra time, extra retakes or typed answers for this candidate; every change is logged. */
function accommodationsPanel(interview) {
  const a = interview.accommodations;
  const closed = ACCOMMODATION_CLOSED.includes(interview.state);
  const number = (name, value, max) => h("input", { type: "number", name, min: "0", max: String(max), step: "1", value: String(value), inputmode: "numeric", disabled: closed });
  const think = number("extra_think_seconds", a.extra_think_seconds, 600);
  const answer = number("extra_answer_seconds", a.extra_answer_seconds, 1800);
  const retakes = number("extra_retakes", a.extra_retakes, 3);
  const typed = h("input", { type: "checkbox", id: "acc-typed", name: "typed_answers", checked: a.typed_answers, disabled: closed });
  const reason = h("input", { type: "text", name: "reason", maxlength: "1000", disabled: closed });
  const error = h("p", { class: "form-error", role: "alert" });
  const save = h("button", { type: "submit", class: "btn btn--secondary btn--block", disabled: closed }, "Save accommodations");
  const form = h("form", { novalidate: true },
    field("Extra think time (seconds)", think),
    field("Extra answer time (seconds)", answer),
    field("Extra retakes per question", retakes),
    h("div", { class: "check" }, typed, h("label", { for: "acc-typed" }, "Typed answers instead of spoken ones")),
    field("Note for the audit log (optional)", reason, { hint: "For example: asked for by the candidate by email." }),
    error, save);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    save.disabled = true;
    try {
      const out = await put(`/interviews/${interview.interview_id}/accommodations`, {
        extra_think_seconds: Number(think.value), extra_answer_seconds: Number(answer.value),
        extra_retakes: Number(retakes.value), typed_answers: typed.checked, reason: reason.value.trim(),
      });
      interview.accommodations = out;
      reason.value = "";
      toast("Accommodations saved. The candidate sees them the next time the interview page loads.", "success");
    } catch (err) {
      if (err.status === 401) { showSignIn("Your session has ended. Sign in again to continue."); return; }
      error.textContent = err.message;
    } finally {
      save.disabled = closed;
    }
  });
  return h("aside", { class: "card accommodations-panel", "aria-labelledby": "acc-h" },
    h("h2", { id: "acc-h" }, "Accommodations"),
    h("p", { class: "muted small" }, closed
      ? "This interview is closed, so its accommodations can no longer change."
      : "Granted at the candidate's request, on top of the role's settings. Each change is in the audit log."),
    isRecruiting() ? form : null);
}

function competencySummary(interview, competency) {
  const rows = interview.competencies || [];
  if (!rows.length) {
    return h("p", { class: "muted" }, "No scores yet: answers are scored from their transcripts as they arrive.");
  }
  const formBox = h("div", {});
  const overrideButton = (c) => {
    const button = h("button", { type: "button", class: "link-button" }, c.override ? "Change override" : "Override");
    button.addEventListener("click", () => render(formBox, overrideForm(interview, c, competency)));
    return button;
  };
  return h("section", { class: "card", "aria-labelledby": "fit-heading" },
    h("h2", { id: "fit-heading" }, `Fit by competency · overall ${Math.round(interview.fit)}/100`),
    table(["Competency", "Score", "Band", "Role's levels", ""], rows.map((c) => [
      competency(c.key),
      h("span", {}, `${Math.round(c.score)}/100`, h("span", { class: "muted small" }, ` · ${c.answers} answer${c.answers === 1 ? "" : "s"}`),
        c.override ? h("span", { class: "small" }, " ", chip("overridden", "warning"),
          h("span", { class: "muted" }, ` model ${Math.round(c.model_score)}/100: “${c.override.reason}”`)) : null),
      bandChip(c.band),
      c.required_level == null ? "" : `meets from level ${c.required_level}, exceeds from ${c.exceeds_level}`,
      isRecruiting() ? overrideButton(c) : "",
    ])),
    formBox,
    h("p", { class: "hint" }, "Scores come from the words of the answers only, never from voice, face or manner. The quotes under each answer show what the score rests on."));
}

/** Set a competency's score by hand, with a reason; the model's score stays on record. */
function overrideForm(interview, c, competency) {
  const value = h("input", { type: "number", min: "0", max: "100", step: "1", value: String(Math.round(c.score)), inputmode: "numeric" });
  const reason = h("textarea", { rows: "3", minlength: "5", maxlength: "5000" });
  const error = h("p", { class: "form-error", role: "alert" });
  const save = h("button", { type: "submit", class: "btn" }, "Save override");
  const back = h("button", { type: "button", class: "btn btn--secondary" }, c.override ? "Put the model's score back" : "Cancel");
  const send = async (body) => {
    error.textContent = "";
    try {
      await post(`/interviews/${interview.interview_id}/overrides`, {
        competency_key: c.key, viewed: [...(viewed.get(interview.interview_id) || [])].slice(0, 100), ...body,
      });
      toast("Override saved, with your reason, in the audit log.", "success");
      route();
    } catch (err) {
      error.textContent = err.message;
    }
  };
  const form = h("form", { novalidate: true, class: "override-form" },
    h("h3", {}, `Override ${competency(c.key)}`),
    field("New score (0-100)", value),
    field("Reason for the override", reason, { hint: "Required. Saved with your name and what you opened." }),
    error, h("div", { class: "btn-row" }, save, back));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (reason.value.trim().length < 5) { error.textContent = "Give a reason of at least 5 characters."; reason.focus(); return; }
    send({ value: Number(value.value), reason: reason.value.trim() });
  });
  back.addEventListener("click", () => {
    if (!c.override) { form.remove(); return; }
    if (reason.value.trim().length < 5) { error.textContent = "Give a reason for putting the model's score back."; reason.focus(); return; }
    send({ value: null, reason: reason.value.trim() });
  });
  window.setTimeout(() => value.focus(), 0);
  return form;
}

function scoreBlock(interviewId, answer, audio, competency) {
  return h("div", { class: "scores" }, answer.scores.map((score) => h("div", { class: "score" },
    h("p", { class: "row" },
      h("strong", {}, `${competency(score.competency_key)}: ${Math.round(score.value)}/100`),
      h("span", { class: "muted small" }, `level ${score.level?.toFixed(1) ?? "?"} of 5`),
      score.gates.map((g) => chip(labelOf(GATES, g), "warning"))),
    score.evidence.length ? h("ul", { class: "evidence", "aria-label": "Sentences the score rests on" },
      score.evidence.map((e) => h("li", {},
        audio && e.start != null
          ? h("button", { type: "button", class: "link-button", title: `Play from ${clock(e.start)}`,
            onclick: () => { markViewed(interviewId, `answer:${answer.id}:recording`); seekAndPlay(audio, e.start); } },
          `“${e.text}”`, h("span", { class: "muted small" }, ` ${clock(e.start)}`))
          : `“${e.text}”`))) : h("p", { class: "muted small" }, "No sentence stands out as evidence."),
    matchedAnchors(score),
    h("p", { class: "transcript-meta" }, `model ${score.model_version} · rubric ${score.rubric_version_id.slice(0, 8)}`))));
}

function answerCard(interviewId, { n, question, answer }, total, competency) {
  const headingId = `q-${n}`;
  const card = h("article", { class: "card answer-card", "aria-labelledby": headingId },
    h("h2", { id: headingId }, `Question ${n} of ${total} · ${competency(question.competency_key)}`),
    h("p", { class: "question" }, question.text));
  if (!answer) {
    card.append(h("p", { class: "muted" }, "Not answered yet."));
    return card;
  }
  const meta = h("div", { class: "answer-meta" },
    chip(labelOf(ANSWER_STATES, answer.state), toneOf(ANSWER_STATES, answer.state)),
    answer.duration_seconds != null ? h("span", {}, `Length ${clock(answer.duration_seconds)}`) : null,
    answer.speech_seconds != null ? h("span", {}, `Speech ${clock(answer.speech_seconds)}`) : null,
    answer.retakes_used ? h("span", {}, `Recorded again ${answer.retakes_used}×`) : null);
  card.append(meta);
  if (answer.state === "failed" || answer.state === "no_speech") {
    card.append(h("p", { class: `notice failure ${answer.state === "failed" ? "notice--danger" : "notice--warning"}` },
      answer.failure_reason || (answer.state === "no_speech" ? "No speech was heard in this recording." : "Processing failed."),
      answer.failure_code ? h("span", { class: "muted small" }, ` (${answer.failure_code})`) : null));
  }
  let audio = null;
  if (answer.media_url) {
    audio = h("audio", { controls: true, preload: "none", src: answer.media_url,
      "aria-label": `Recording of the answer to question ${n}` });
    audio.addEventListener("play", () => markViewed(interviewId, `answer:${answer.id}:recording`));
    card.append(audio);
  } else if (answer.content_type === "text/plain") {
    card.append(h("p", { class: "muted small" }, "Typed answer (an accommodation): there is no recording."));
  } else {
    card.append(h("p", { class: "muted small" }, "The recording is not available yet."));
  }
  if (answer.scores?.length) card.append(scoreBlock(interviewId, answer, audio, competency));
  if (answer.transcript) {
    card.append(transcriptBlock(interviewId, answer, audio, n));
  } else if (!["failed", "no_speech"].includes(answer.state)) {
    card.append(h("p", { class: "muted small transcript-box" },
      answer.state === "transcribing" ? "Transcribing now; reload in a moment." : "No transcript yet: the answer is waiting to be processed."));
  }
  return card;
}

function transcriptBlock(interviewId, answer, audio, n) {
  const t = answer.transcript;
  const words = t.words || [];
  const box = h("div", { class: "transcript", tabindex: "0", role: "region", "aria-label": `Transcript of the answer to question ${n}` });
  const spans = [];
  if (words.length) {
    words.forEach((w, i) => {
      const span = h("span", {
        class: ["word", w.probability < 0.5 && "word--low"],
        dataset: { i: String(i) },
        title: `${clock(w.start)}${w.probability < 0.5 ? " · transcription unsure" : ""}`,
      }, w.text.trim());
      spans.push(span);
      box.append(span, " ");
    });
  } else {
    box.append(t.text || "(empty transcript)");
  }
  const flags = t.quality_flags || [];
  const details = h("details", { class: "transcript-box" },
    h("summary", {}, `Transcript (${words.length} words)`),
    flags.length ? h("p", { class: "row flags" }, h("span", { class: "small" }, "Quality notes:"),
      flags.map((f) => chip(labelOf(QUALITY_FLAGS, f), "warning"))) : null,
    audio && words.length ? h("p", { class: "hint" },
      "Select a word to play the recording from there; the word being spoken is highlighted. A dotted underline marks words the transcription is unsure of.") : null,
    box,
    h("p", { class: "transcript-meta" },
      `${t.asr_version} · language ${t.language} (${Math.round(t.language_probability * 100)}%) · processed in ${t.processing_seconds.toFixed(1)} s`));
  details.addEventListener("toggle", () => {
    if (details.open) markViewed(interviewId, `answer:${answer.id}:transcript`);
  });
  if (audio && words.length) wireTranscript(audio, box, spans, words);
  return details;
}

function wireTranscript(audio, box, spans, words) {
  const starts = words.map((w) => w.start);
  let current = -1;
  let frame = 0;

  const indexAt = (time) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= time) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (found >= 0 && time > words[found].end + 0.6) return -1; // in a pause
    return found;
  };
  const highlight = () => {
    const i = indexAt(audio.currentTime);
    if (i === current) return;
    if (current >= 0) spans[current].classList.remove("word--current");
    current = i;
    if (i >= 0) {
      const span = spans[i];
      span.classList.add("word--current");
      const top = span.offsetTop - box.offsetTop;
      if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - 30) box.scrollTop = top - box.clientHeight / 3;
    }
  };
  const loop = () => {
    highlight();
    if (!audio.paused && !audio.ended) frame = window.requestAnimationFrame(loop);
  };
  audio.addEventListener("timeupdate", highlight);
  audio.addEventListener("seeked", highlight);
  audio.addEventListener("play", () => { window.cancelAnimationFrame(frame); frame = window.requestAnimationFrame(loop); });
  audio.addEventListener("pause", () => window.cancelAnimationFrame(frame));

  box.addEventListener("click", (event) => {
    const span = event.target.closest(".word");
    if (!span) return;
    seekAndPlay(audio, words[Number(span.dataset.i)].start);
  });
}

function seekAndPlay(audio, time) {
  const go = () => {
    audio.currentTime = time;
    audio.play().catch(() => { /* the person can press play */ });
  };
  if (audio.readyState >= 1) go();
  else {
    audio.addEventListener("loadedmetadata", go, { once: true });
    audio.load();
  }
}

function decisionPanel(interview, statusChip) {
  const id = interview.interview_id;
  const select = h("select", { name: "status" },
    Object.entries(STATUSES).map(([value, label]) => h("option", { value, selected: value === interview.status }, label)));
  const reason = h("textarea", { name: "reason", required: true, minlength: "5", maxlength: "5000", rows: "4" });
  const error = h("p", { class: "form-error", role: "alert" });
  const viewedBox = h("div", { class: "viewed-list", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "btn btn--block" }, "Record decision");

  const showViewed = () => {
    const items = [...(viewed.get(id) || [])];
    const recordings = items.filter((x) => x.endsWith(":recording")).length;
    const transcripts = items.filter((x) => x.endsWith(":transcript")).length;
    render(viewedBox, items.length
      ? h("p", {}, `Sent with your decision: you have played ${recordings} recording${recordings === 1 ? "" : "s"} and opened ${transcripts} transcript${transcripts === 1 ? "" : "s"}.`)
      : h("p", {}, "You have not opened any recording or transcript yet. What you open is recorded with your decision."));
  };
  showViewed();
  document.addEventListener("parley:viewed", (event) => {
    if (event.detail.interviewId === id && viewedBox.isConnected) showViewed();
  });

  const form = h("form", { novalidate: true },
    field("New status", select),
    field("Reason", reason, { hint: "Required, at least 5 characters. Saved with your name, the time and what you opened." }),
    viewedBox, error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    reason.removeAttribute("aria-invalid");
    if (reason.value.trim().length < 5) {
      reason.setAttribute("aria-invalid", "true");
      error.textContent = "Give a reason of at least 5 characters.";
      reason.focus();
      return;
    }
    submit.disabled = true;
    try {
      const out = await post(`/interviews/${id}/decisions`, {
        status: select.value, reason: reason.value.trim(), viewed: [...(viewed.get(id) || [])].slice(0, 100),
      });
      interview.status = out.to_status;
      statusChip.textContent = labelOf(STATUSES, out.to_status);
      reason.value = "";
      toast(`Decision recorded: ${labelOf(STATUSES, out.from_status)} → ${labelOf(STATUSES, out.to_status)}.`, "success");
    } catch (err) {
      if (err.status === 401) { showSignIn("Your session has ended. Sign in again to continue."); return; }
      error.textContent = err.message;
    } finally {
      submit.disabled = false;
    }
  });
  return h("aside", { class: "card decision-panel", "aria-labelledby": "dec-h" },
    h("h2", { id: "dec-h" }, "Decision"),
    h("p", { class: "muted small" }, "Nothing is decided automatically. Only a person changes a candidate's status, always with a reason."),
    form);
}

// ---------------------------------------------------------------- fairness (admins)

const GROUPINGS = {
  sex: "Sex",
  race_ethnicity: "Race or ethnicity",
  sex_x_race_ethnicity: "Sex × race or ethnicity",
  "sex (exceeds)": "Sex, “exceeds” band",
  "race_ethnicity (exceeds)": "Race or ethnicity, “exceeds” band",
  "sex_x_race_ethnicity (exceeds)": "Sex × race or ethnicity, “exceeds” band",
  "age_band (exceeds)": "Age band, “exceeds” band",
};
const pct = (v) => (v == null ? "–" : `${(v * 100).toFixed(1)}%`);
const ratio = (v) => (v == null ? "–" : v.toFixed(2));

/** Fetch a file from the API with the session cookie and save it under `filename`. */
async function download(path, filename) {
  const response = await fetch(`/api/v1${path}`, { credentials: "same-origin" });
  if (!response.ok) { toast("The file could not be made. Try again.", "danger"); return; }
  const url = URL.createObjectURL(await response.blob());
  const a = h("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}

/** Bars of each group's selection impact ratio, with the four-fifths line drawn at 0.8. */
function impactChart(t) {
  const NS = "http://www.w3.org/2000/svg";
  const el = (tag, attrs, text) => {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text != null) node.textContent = text;
    return node;
  };
  const rows = t.rows.filter((r) => r.selection_impact_ratio != null);
  const rowH = 26, left = 170, width = 460, top = 8;
  const max = Math.max(1, ...rows.map((r) => r.selection_impact_ratio));
  const x = (v) => left + (v / max) * (width - left - 40);
  const svg = el("svg", { viewBox: `0 0 ${width} ${top + rows.length * rowH + 24}`, class: "impact-chart", role: "img",
    "aria-label": `Selection impact ratio by ${GROUPINGS[t.grouping] || t.grouping}; the line marks 0.8` });
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    svg.append(el("text", { x: left - 8, y: y + 16, "text-anchor": "end", class: "impact-chart__label" }, r.group));
    svg.append(el("rect", { x: left, y: y + 4, height: 16, width: Math.max(1, x(r.selection_impact_ratio) - left),
      class: r.four_fifths_flag ? "impact-chart__bar impact-chart__bar--flag" : "impact-chart__bar" }));
    svg.append(el("text", { x: x(r.selection_impact_ratio) + 4, y: y + 16, class: "impact-chart__value" }, ratio(r.selection_impact_ratio)));
  });
  const line = x(0.8);
  svg.append(el("line", { x1: line, x2: line, y1: top, y2: top + rows.length * rowH, class: "impact-chart__rule" }));
  svg.append(el("text", { x: line, y: top + rows.length * rowH + 16, "text-anchor": "middle", class: "impact-chart__value" }, "0.8"));
  return svg;
}

async function viewFairness(roleId) {
  const [role, report] = await Promise.all([get(`/roles/${roleId}`), get(`/roles/${roleId}/adverse-impact`)]);
  const competency = await competencyNames(role.rubric_version_id);
  const measures = [...new Set(report.tables.map((t) => t.measure))];
  const measureName = (m) => (m === "overall" ? "Overall fit" : competency(m));
  const select = h("select", { id: "fair-measure" }, measures.map((m) => h("option", { value: m }, measureName(m))));
  const box = h("div", {});
  const draw = () => {
    const tables = report.tables.filter((t) => t.measure === select.value);
    render(box, tables.map((t) => h("section", { class: "card", "aria-label": GROUPINGS[t.grouping] || t.grouping },
      h("h2", {}, GROUPINGS[t.grouping] || t.grouping),
      h("p", { class: "muted small" }, `Median score ${t.median_score}. Unknown (not said, or preferred not to): ${t.unknown}.`),
      table(["Group", "Applicants", "Scoring rate", "Impact ratio", t.grouping.includes("exceeds") ? "“Exceeds” rate" : "Selection rate", "Impact ratio", "Fisher p", ""],
        t.rows.map((r) => [
          r.group, String(r.applicants), pct(r.scoring_rate), ratio(r.scoring_impact_ratio),
          pct(r.selection_rate), ratio(r.selection_impact_ratio), r.fisher_p == null ? "–" : r.fisher_p.toFixed(4),
          h("span", {}, r.reference ? chip("reference") : null, r.four_fifths_flag ? chip("below four-fifths", "warning") : null,
            r.under_2_percent ? chip("under 2%") : null),
        ]), { empty: "Nobody in this role has answered these questions yet.", stack: false }),
      t.rows.length ? impactChart(t) : null)));
  };
  select.addEventListener("change", draw);
  const csvButton = h("button", { type: "button", class: "btn btn--secondary" }, "Download CSV (bias-audit summary)");
  csvButton.addEventListener("click", () => download(`/roles/${roleId}/adverse-impact?fmt=csv`, `adverse-impact-${roleId}.csv`));
  draw();
  return {
    title: `Fairness · ${role.title}`,
    node: h("div", {},
      pageHead("Adverse-impact report", { crumbs: [["Roles", "#/roles"], [role.title, `#/roles/${role.id}`]],
        lead: `${report.candidates} scored candidate${report.candidates === 1 ? "" : "s"}. Groups come from the candidates' voluntary, optional answers after the interview; nobody who reviews candidates sees them.` }),
      h("p", { class: "hint" }, "Scoring rate: the share scoring above the median. Selection rate: the share in the “meets” band or better. "
        + "Each group's impact ratio is its rate over the highest group's; below 0.8 is flagged (the four-fifths rule). Fisher's exact test compares each group with the reference group. "
        + "Groups under 2% are shown but never the reference. Viewing and downloading this report is logged."),
      h("div", { class: "row" }, field("Measure", select), csvButton),
      box),
  };
}

// ---------------------------------------------------------------- rubric and questions

const RUBRIC_EDITORS = ["admin", "psychologist"];

async function viewRubrics() {
  const versions = await rubrics();
  const canEdit = RUBRIC_EDITORS.includes(state.me?.user.role);
  const level = (lv) => h("li", {},
    h("div", {}, h("span", { class: "level-label" }, `${lv.level} · ${lv.label}: `), lv.anchor),
    lv.examples.length
      ? h("ul", { class: "examples" }, lv.examples.map((ex) => h("li", {}, `“${ex}”`)))
      : null);
  const indicator = (ind) => h("details", { class: "indicator" },
    h("summary", {}, ind.text),
    h("ol", { class: "levels" }, ind.levels.map(level)));
  const competencyCard = (c) => h("div", { class: "card competency" },
    h("h3", {}, c.name),
    h("p", { class: "muted" }, c.description),
    c.indicators.map(indicator));
  const exportLink = (v, fmt) => h("a", { class: "btn btn--secondary btn--small",
    href: `/api/v1/rubrics/${v.id}/export?format=${fmt}`, download: "" }, `Export ${fmt.toUpperCase()}`);
  const version = (v) => {
    const section = h("section", { "aria-label": `${v.name} version ${v.version}` },
      h("h2", {}, `${v.name} · version ${v.version}`),
      h("p", { class: "row" }, exportLink(v, "csv"), exportLink(v, "xlsx"),
        canEdit ? h("button", { type: "button", class: "btn btn--small",
          onclick: () => render(section, rubricEditor(v, () => render(section, ...version(v).childNodes))) },
        "Edit as a new version") : null),
      v.competencies.map(competencyCard));
    return section;
  };
  const newest = new Map();
  for (const v of versions) if (!newest.has(v.rubric_id) || newest.get(v.rubric_id).version < v.version) newest.set(v.rubric_id, v);
  const node = h("div", {},
    pageHead("Rubric", { lead: "The written criteria answers are assessed against: competencies, their behavioural indicators, and anchored levels with example answers. Every edit or import makes a new version; scores always name the version they used." }),
    canEdit ? rubricImport() : null,
    versions.length ? [...newest.values()].map(version) : h("p", { class: "muted" }, "No rubric yet."),
    versions.length > newest.size ? h("details", { class: "card" }, h("summary", {}, "Earlier versions"),
      versions.filter((v) => newest.get(v.rubric_id) !== v).map(version)) : null);
  return { title: "Rubric", node };
}

function rubricImport() {
  const name = h("input", { type: "text", required: true, maxlength: "200", value: "Parley default soft-skill rubric" });
  const file = h("input", { type: "file", required: true, accept: ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card stack" },
    h("h2", {}, "Import a spreadsheet"),
    h("p", { class: "hint" }, "One row per anchored level, as the export writes it (CSV or XLSX). It becomes the next version of the rubric with this name."),
    field("Rubric name", name), field("Spreadsheet", file),
    h("button", { type: "submit", class: "btn" }, "Import"), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = file.files[0];
    if (!chosen) return;
    const fmt = chosen.name.toLowerCase().endsWith(".xlsx") ? "xlsx" : "csv";
    try {
      const v = await post(`/rubrics/import?name=${encodeURIComponent(name.value)}&format=${fmt}`,
        await chosen.arrayBuffer(), { headers: { "Content-Type": fmt === "xlsx" ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv" } });
      state.rubrics = null;
      toast(`Imported as version ${v.version}.`, "success");
      route();
    } catch (err) {
      render(out, errorBox(err));
    }
  });
  return form;
}

/** The whole rubric as a form; saving posts it as the next version. */
function rubricEditor(v, onCancel) {
  const lines = (text) => text.split("\n").map((x) => x.trim()).filter(Boolean);
  const inputs = [];
  const text = (value, attrs = {}) => h("input", { type: "text", value, required: true, ...attrs });
  const area = (value, attrs = {}) => h("textarea", { rows: "3", ...attrs }, value);
  const competencies = v.competencies.map((c) => {
    const name = text(c.name, { maxlength: "200" });
    const description = area(c.description);
    const indicators = c.indicators.map((ind) => {
      const indText = text(ind.text, { maxlength: "1000" });
      const levels = ind.levels.map((lv) => ({ level: lv.level, label: text(lv.label, { maxlength: "100" }),
        anchor: area(lv.anchor, { required: true }), examples: area(lv.examples.join("\n"), { rows: "4" }) }));
      return { key: ind.key, text: indText, levels };
    });
    inputs.push({ key: c.key, name, description, indicators });
    return h("fieldset", { class: "card" }, h("legend", {}, c.name),
      field("Name", name), field("Description", description),
      indicators.map((ind) => h("details", { class: "indicator" }, h("summary", {}, ind.text.value),
        field("Indicator", ind.text),
        ind.levels.map((lv) => h("div", { class: "level-edit" },
          h("h4", {}, `Level ${lv.level}`), field("Label", lv.label), field("Anchor", lv.anchor),
          field("Example answers", lv.examples, { hint: "One example per line." }))))));
  });
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "stack rubric-editor" },
    h("h2", {}, `Editing ${v.name} · version ${v.version}`),
    h("p", { class: "hint" }, `Saving creates version ${v.version + 1} (or the next free number); version ${v.version} stays as it is.`),
    competencies,
    h("p", { class: "row" }, h("button", { type: "submit", class: "btn" }, "Save as a new version"),
      h("button", { type: "button", class: "btn btn--secondary", onclick: onCancel }, "Cancel")),
    out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const document_ = {
      name: v.name,
      competencies: inputs.map((c) => ({
        key: c.key, name: c.name.value.trim(), description: c.description.value.trim(),
        indicators: c.indicators.map((ind) => ({
          key: ind.key, text: ind.text.value.trim(),
          levels: ind.levels.map((lv) => ({ level: lv.level, label: lv.label.value.trim(),
            anchor: lv.anchor.value.trim(), examples: lines(lv.examples.value) })),
        })),
      })),
    };
    try {
      const saved = await post("/rubrics/versions", document_);
      state.rubrics = null;
      toast(`Saved as version ${saved.version}.`, "success");
      route();
    } catch (err) {
      render(out, errorBox(err));
    }
  });
  return form;
}

async function viewQuestions() {
  const [questions, competency] = await Promise.all([get("/questions"), competencyNames(null)]);
  const sorted = [...questions].sort((a, b) => competency(a.competency_key).localeCompare(competency(b.competency_key)));
  return {
    title: "Question bank",
    node: h("div", {},
      pageHead("Question bank", { lead: "Questions organised by competency. Specific questions that ask for a real example get fuller answers." }),
      table(["Competency", "Question", "Key"],
        sorted.map((q) => [chip(competency(q.competency_key), "info"), q.text, h("code", {}, q.key)]),
        { empty: "No questions yet." })),
  };
}

// ---------------------------------------------------------------- administration

async function viewUsers() {
  const listBox = h("div", {});
  const load = async () => {
    state.users = await get("/users");
    render(listBox, table(["Name", "Email", "Role"],
      state.users.map((u) => [u.name, u.email, chip(labelOf(ROLES, u.role))])));
  };
  await load();

  const name = h("input", { type: "text", autocomplete: "off", required: true });
  const email = h("input", { type: "email", autocomplete: "off", required: true, spellcheck: "false" });
  const role = h("select", {}, Object.entries(ROLES).map(([value, label]) => h("option", { value, selected: value === "recruiter" }, label)));
  const password = h("input", { type: "password", autocomplete: "new-password", required: true, minlength: "12" });
  const error = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "btn" }, "Add user");
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "add-h" },
    h("h2", { id: "add-h" }, "Add a staff member"),
    h("div", { class: "grid-2" }, field("Name", name), field("Email", email)),
    h("div", { class: "grid-2" }, field("Role", role, { hint: "Psychologists see the rubric and questions, not candidates." }),
      field("Initial password", password, { hint: "At least 12 characters. Share it privately." })),
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!name.value.trim() || !email.checkValidity() || !email.value.trim()) {
      error.textContent = "Enter a name and a valid email address.";
      return;
    }
    if (password.value.length < 12) {
      error.textContent = "The password needs at least 12 characters.";
      password.focus();
      return;
    }
    submit.disabled = true;
    try {
      const user = await post("/users", { name: name.value.trim(), email: email.value.trim(), role: role.value, password: password.value });
      toast(`${user.name} can now sign in as ${labelOf(ROLES, user.role).toLowerCase()}.`, "success");
      form.reset();
      await load();
    } catch (err) {
      error.textContent = err.message;
    } finally {
      submit.disabled = false;
    }
  });
  return {
    title: "Users",
    node: h("div", {}, pageHead("Users", { lead: `Staff of ${state.me.organisation}.` }), listBox, h("div", { class: "stack" }, h("div", {}), form)),
  };
}

/** "interview:3f2a9c...e1" -> "interview:3f2a9c…" (the full reference stays in a tooltip). */
function shortRef(ref) {
  const [kind, ...rest] = String(ref).split(":");
  const id = rest.join(":");
  if (!id) return kind;
  return `${kind}:${id.length > 10 ? `${id.slice(0, 8)}…` : id}`;
}

async function viewAudit() {
  if (!state.users) { try { state.users = await get("/users"); } catch { state.users = []; } }
  const names = Object.fromEntries(state.users.map((u) => [`user:${u.id}`, u.name]));
  const actorLabel = (actor) => names[actor] || actor;

  const verifyBox = h("div", { "aria-live": "polite" });
  const verify = async () => {
    render(verifyBox, h("p", { class: "muted" }, h("span", { class: "spinner", "aria-hidden": "true" }), " Checking the audit chain…"));
    try {
      const out = await get("/audit/verify");
      render(verifyBox, out.intact
        ? h("div", { class: "notice notice--success" }, h("p", {}, h("strong", {}, "The audit log is intact. "),
          "Every entry is linked to the one before it; nothing has been changed or removed."))
        : h("div", { class: "notice notice--danger" }, h("p", {}, h("strong", {}, `The audit log has ${out.problems.length} problem${out.problems.length === 1 ? "" : "s"}.`)),
          h("ul", {}, out.problems.map((p) => h("li", {}, p)))));
    } catch (err) {
      render(verifyBox, errorBox(err, verify));
    }
  };

  const tbody = h("tbody", {});
  const headers = ["#", "When", "Who", "Action", "Subject", "Details"];
  const tableEl = h("div", { class: "table-wrap" }, h("table", { class: "table-stack audit-table" },
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))), tbody));
  const more = h("button", { type: "button", class: "btn btn--secondary" }, "Load more");
  const PAGE = 100;
  let after = 0;
  const load = async () => {
    more.disabled = true;
    try {
      const events = await get(`/audit?after=${after}&limit=${PAGE}`);
      for (const e of events) {
        const data = Object.entries(e.data || {})
          .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join("; ");
        tbody.append(h("tr", {}, [
          h("td", { class: "num", "data-label": headers[0] }, String(e.seq)),
          h("td", { class: "nowrap", "data-label": headers[1] }, formatDateTime(e.created_at)),
          h("td", { "data-label": headers[2] }, names[e.actor] ? actorLabel(e.actor) : h("span", { title: e.actor }, shortRef(e.actor))),
          h("td", { "data-label": headers[3] }, h("code", {}, e.action)),
          h("td", { "data-label": headers[4] }, h("code", { title: e.subject }, shortRef(e.subject))),
          h("td", { "data-label": headers[5] }, h("span", { class: "audit-data" }, data)),
        ]));
        after = Math.max(after, e.seq);
      }
      more.hidden = events.length < PAGE;
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => load().catch((err) => toast(err.message, "error")));
  await load();
  verify();
  return {
    title: "Audit log",
    node: h("div", {},
      pageHead("Audit log", { lead: "Who did what and when, including every recording played and every decision with its reason." }),
      h("div", { class: "row row--between" }, h("h2", {}, "Integrity"),
        h("button", { type: "button", class: "btn btn--secondary btn--small", onclick: verify }, "Check again")),
      verifyBox,
      h("h2", {}, "Entries"),
      tbody.children.length ? tableEl : h("p", { class: "muted" }, "No entries yet."),
      h("div", { class: "btn-row" }, more)),
  };
}

boot();
