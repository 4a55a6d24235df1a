// The psychologists' calibration workspace (admins and psychologists).
//   #/calibration           batches with progress, a new batch, my queue, snapshots, training
//                           runs and the promotion gate's margin; and what the other pages share
// A batch's page (#/calibration/<batch>) is in calibration-batch.js, the scoring screen
// (#/label/<assignment>) in calibration-label.js, a training run's report and its promotion
// (#/training/<run>) in calibration-training.js.

import { get, post, put } from "/shared/api.js";
import { field, formatDateTime, h, render } from "/shared/dom.js";
import { chip, currentUser, pageHead, rubrics, table, toast } from "./app.js";

export const ROUND_NAMES = { 1: "Blind round", 2: "Calibration re-score" };
const RUN_TONES = { queued: "info", running: "info", done: "success", failed: "danger" };
const STATE_LABELS = { pending: ["To score", ""], draft: ["Draft saved", "warning"], submitted: ["Submitted", "success"] };

// ---------------------------------------------------------------- small shared pieces

/** A figure to `digits` places; null, NaN and infinities (the API's "not defined") as "–". */
export function fmt(value, digits = 2) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
}

export function pct(value) {
  return typeof value === "number" && Number.isFinite(value) ? `${Math.round(value * 100)}%` : "–";
}

export const plural = (n, word, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

/** A labelled progress bar: "done of total". */
export function progressBar(done, total, label, { tone } = {}) {
  const share = total ? Math.min(1, done / total) : 0;
  const fill = h("div", { class: "bar__fill" });
  fill.style.width = `${(share * 100).toFixed(1)}%`; // through the CSSOM: the CSP refuses style attributes
  return h("div", { class: "cal-progress" },
    h("div", { class: "cal-progress__text small" }, h("span", {}, label), h("span", { class: "muted" }, `${done} of ${total}`)),
    h("div", {
      class: ["bar", tone === "success" || (total && done >= total) ? "bar--success" : ""],
      role: "progressbar", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": String(total || 0),
      "aria-valuenow": String(done), "aria-valuetext": `${done} of ${total}`,
    }, fill));
}

/** competency key -> its name, from every rubric version the organisation has. */
export async function competencyNamer() {
  const names = {};
  try {
    for (const v of await rubrics()) for (const c of v.competencies) names[c.key] = c.name;
  } catch { /* keys it is */ }
  return (key) => names[key] || String(key).replace(/[-_]/g, " ");
}

/** Everyone's labels of one round, side by side. */
export function peerTable(peers, caption) {
  return table(["Rater", "Level", "Comment"], peers.map((p) => [
    p.name, p.level == null ? "–" : String(p.level), p.comment ? h("span", { class: "cal-comment" }, p.comment) : h("span", { class: "muted" }, "No comment"),
  ]), { caption, stack: false, empty: "No labels." });
}

export const isAdmin = () => currentUser()?.role === "admin";

/** The first assignment still to score, the re-score round first (the API's order). */
export function nextToScore(assignments, exceptId = null) {
  return assignments.find((a) => a.state !== "submitted" && a.id !== exceptId) || null;
}

export function batchProgress(batch, { compact = false } = {}) {
  const rounds = [1, 2].map((round) => batch.progress.filter((p) => p.round === round)).filter((rows) => rows.length);
  if (!rounds.length) return h("p", { class: "muted small" }, "Nothing assigned.");
  return h("div", { class: "cal-progress-group" }, rounds.map((rows) => {
    const round = rows[0].round;
    const assigned = rows.reduce((n, r) => n + r.assigned, 0);
    const submitted = rows.reduce((n, r) => n + r.submitted, 0);
    return h("div", { class: "cal-round" },
      progressBar(submitted, assigned, `${ROUND_NAMES[round]}: all raters`),
      compact ? null : h("div", { class: "cal-raters" },
        rows.map((r) => progressBar(r.submitted, r.assigned, `${ROUND_NAMES[round]}: ${r.name}`))));
  }));
}

export function queueTable(assignments, batchNames, competency) {
  return table(["Batch", "Round", "Answer", "Criterion", "State", ""], assignments.map((a) => {
    const [label, tone] = STATE_LABELS[a.state] || [a.state, ""];
    return [
      batchNames[a.batch_id] || "Batch",
      ROUND_NAMES[a.round] || `Round ${a.round}`,
      `#${a.position + 1}`,
      competency(a.competency_key),
      chip(label, tone),
      h("a", { href: `#/label/${a.id}` }, a.state === "submitted" ? "See" : a.state === "draft" ? "Continue" : "Score"),
    ];
  }), { empty: "Nothing in your queue." });
}

// ---------------------------------------------------------------- #/calibration

export async function viewCalibration() {
  const [batches, mine, snapshots, runs, gate, roles, raters, promotions, competency] = await Promise.all([
    get("/calibration/batches"), get("/calibration/assignments"), get("/calibration/snapshots"),
    get("/training-runs"), get("/calibration/gate"), get("/roles"), get("/calibration/raters"),
    get("/calibration/promotions"), competencyNamer(),
  ]);
  const roleTitles = Object.fromEntries(roles.map((r) => [r.id, r.title]));
  const batchNames = Object.fromEntries(batches.map((b) => [b.id, b.name]));

  const myBatches = [...new Set(mine.map((a) => a.batch_id))];
  const myQueue = myBatches.map((batchId) => {
    const own = mine.filter((a) => a.batch_id === batchId);
    const next = nextToScore(own);
    const done = own.filter((a) => a.state === "submitted").length;
    return h("li", { class: "card cal-queue-item" },
      h("div", { class: "row row--between" },
        h("h3", {}, h("a", { href: `#/calibration/${batchId}` }, batchNames[batchId] || "Batch")),
        next ? h("a", { class: "btn btn--small", href: `#/label/${next.id}`, "aria-label": `Start scoring: ${batchNames[batchId] || "batch"}` }, "Start scoring")
          : chip("All scored", "success")),
      progressBar(done, own.length, "Your labels"));
  });

  const batchCards = batches.map((b) => h("li", { class: "card" },
    h("h3", {}, h("a", { href: `#/calibration/${b.id}` }, b.name)),
    h("p", { class: "muted small" },
      `${roleTitles[b.role_id] || "Role"} · ${plural(b.rater_ids.length, "rater")}, ${b.raters_per_answer} per answer · created ${formatDateTime(b.created_at)}`,
      b.session_started_at ? " · calibration session open" : ""),
    batchProgress(b)));

  const node = h("div", {},
    pageHead("Calibration", { lead: "Psychologists score the same answers blind against the rubric's anchors, see each other's scores only once everyone has scored, discuss the disagreements and re-score them. Their labels train a candidate model, which a person promotes only past the agreement gate." }),
    h("section", { "aria-labelledby": "cal-mine" },
      h("h2", { id: "cal-mine" }, "My queue"),
      myQueue.length ? h("ul", { class: "cal-list" }, myQueue) : h("p", { class: "muted" }, "No answers are assigned to you."),
      mine.length ? h("details", {}, h("summary", {}, `Every assignment of mine (${mine.length})`), queueTable(mine, batchNames, competency)) : null),
    h("section", { "aria-labelledby": "cal-batches" },
      h("h2", { id: "cal-batches" }, "Batches"),
      batches.length ? h("ul", { class: "cal-list" }, batchCards) : h("p", { class: "muted" }, "No labelling batch yet."),
      newBatchForm(roles, raters)),
    h("section", { "aria-labelledby": "cal-snapshots" },
      h("h2", { id: "cal-snapshots" }, "Training snapshots"),
      snapshotTable(snapshots, batchNames)),
    h("section", { "aria-labelledby": "cal-runs" },
      h("h2", { id: "cal-runs" }, "Training runs"),
      runTable(runs)),
    h("section", { "aria-labelledby": "cal-gate" },
      h("h2", { id: "cal-gate" }, "Promotion gate"),
      gatePanel(gate),
      promotions.length ? table(["When", "Model", "Margin", "Reason"], promotions.map((p) => [
        formatDateTime(p.created_at), h("code", {}, p.model_version), fmt(p.margin), p.reason,
      ]), { caption: "Promotions", stack: true }) : null));
  return { title: "Calibration", node };
}

function newBatchForm(roles, raters) {
  const me = currentUser();
  const name = h("input", { type: "text", maxlength: "200", autocomplete: "off" });
  const role = h("select", { required: true },
    h("option", { value: "" }, "Choose a role"), roles.map((r) => h("option", { value: r.id }, r.title)));
  const questionsBox = h("div", {});
  const panel = raters.map((r) => {
    const box = h("input", { type: "checkbox", id: `cal-rater-${r.id}`, value: r.id, checked: r.id === me?.id });
    return { box, node: h("div", { class: "check" }, box, h("label", { for: box.id }, `${r.name} (${r.role})`)) };
  });
  const perAnswer = h("input", { type: "number", min: "1", max: "50", step: "1", value: "3", inputmode: "numeric" });
  const sample = h("input", { type: "number", min: "1", step: "1", inputmode: "numeric" });
  const error = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "btn" }, "Create batch");
  let questionBoxes = [];
  role.addEventListener("change", () => {
    const chosen = roles.find((r) => r.id === role.value);
    questionBoxes = (chosen?.script || []).map((item) => {
      const box = h("input", { type: "checkbox", id: `cal-q-${item.question.id}`, value: item.question.id });
      return { box, node: h("div", { class: "check" }, box, h("label", { for: box.id }, item.question.text)) };
    });
    render(questionsBox, questionBoxes.length ? h("fieldset", {},
      h("legend", {}, "Only these questions (optional)"),
      h("p", { class: "hint" }, "Tick none to label the answers to every question of the role."),
      questionBoxes.map((q) => q.node)) : null);
  });
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "cal-new" },
    h("h3", { id: "cal-new" }, "New batch"),
    h("div", { class: "grid-2" }, field("Batch name", name, { hint: "Optional; the role's title by default." }), field("Role", role)),
    questionsBox,
    h("fieldset", {}, h("legend", {}, "Panel"),
      raters.length ? panel.map((p) => p.node) : h("p", { class: "muted" }, "No psychologist can sit on a panel yet.")),
    h("div", { class: "grid-2" },
      field("Raters per answer", perAnswer, { hint: "Each answer goes to this many of the panel; 3 by default." }),
      field("Sample size", sample, { hint: "Optional: label a random sample of this many answers instead of all." })),
    error, h("div", { class: "btn-row" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const raterIds = panel.filter((p) => p.box.checked).map((p) => p.box.value);
    const n = Number(perAnswer.value);
    if (!role.value) { error.textContent = "Choose the role whose answers to label."; role.focus(); return; }
    if (!raterIds.length) { error.textContent = "Choose at least one rater for the panel."; panel[0]?.box.focus(); return; }
    if (!Number.isInteger(n) || n < 1 || n > raterIds.length) {
      error.textContent = `Raters per answer must be a whole number from 1 to ${raterIds.length} (the panel's size).`;
      perAnswer.focus();
      return;
    }
    const body = { name: name.value.trim(), role_id: role.value, rater_ids: raterIds, raters_per_answer: n };
    const questionIds = questionBoxes.filter((q) => q.box.checked).map((q) => q.box.value);
    if (questionIds.length) body.question_ids = questionIds;
    if (sample.value.trim()) {
      const size = Number(sample.value);
      if (!Number.isInteger(size) || size < 1) { error.textContent = "The sample size must be a whole number of at least 1."; sample.focus(); return; }
      body.sample = size;
    }
    submit.disabled = true;
    try {
      const batch = await post("/calibration/batches", body);
      const assigned = batch.progress.filter((p) => p.round === 1).reduce((s, p) => s + p.assigned, 0);
      toast(`Batch “${batch.name}” created: ${plural(assigned, "label")} to give.`, "success");
      window.location.hash = `#/calibration/${batch.id}`;
    } catch (err) {
      error.textContent = err.message;
      submit.disabled = false;
    }
  });
  return form;
}

function trainButton(snapshot) {
  const button = h("button", { type: "button", class: "btn btn--small", "aria-label": `Train on snapshot version ${snapshot.version}` }, "Train");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const run = await post(`/calibration/snapshots/${snapshot.id}/train`);
      toast("Training queued; its progress follows.", "success");
      window.location.hash = `#/training/${run.id}`;
    } catch (err) {
      toast(err.message, "error");
      button.disabled = false;
    }
  });
  return button;
}

export function snapshotTable(snapshots, batchNames) {
  return table(["Version", "Batch", "Aggregate", "Answers", "Raters", "Label rows", "Data (SHA-256)", "Made", ""],
    snapshots.map((s) => [
      `v${s.version}`,
      s.batch_id ? h("a", { href: `#/calibration/${s.batch_id}` }, batchNames[s.batch_id] || "Batch") : "–",
      s.aggregate, String(s.answer_ids.length), String(s.rater_ids.length), String(s.rows),
      h("code", { title: s.data_sha256 }, `${s.data_sha256.slice(0, 12)}…`),
      formatDateTime(s.created_at), trainButton(s),
    ]), { empty: "No training snapshot yet: make one from a batch's revealed labels." });
}

function runTable(runs) {
  return table(["Started", "State", "Progress", "Model", ""], runs.map((r) => [
    formatDateTime(r.created_at),
    chip(r.state, RUN_TONES[r.state] || ""),
    r.state === "running" || r.state === "queued" ? `${r.progress.done} of ${r.progress.total || "?"}` : "–",
    r.model_version ? h("code", {}, r.model_version) : "–",
    h("a", { href: `#/training/${r.id}` }, r.state === "done" ? "Report and promotion" : "Open"),
  ]), { empty: "No training run yet." });
}

function gatePanel(gate) {
  const box = h("div", { class: "card" });
  const show = (g) => render(box,
    h("p", {}, "A model is promoted only when, on every criterion, its agreement with the panel on held-out answers (weighted kappa) reaches the raters' own agreement minus ",
      h("strong", { class: "cal-margin" }, fmt(g.margin)), "."),
    h("p", { class: "muted small" }, g.scoring_model_version
      ? ["Scoring now: ", h("code", {}, g.scoring_model_version)] : "Scoring now: the uncalibrated demo model."),
    isAdmin() ? marginForm(g, show) : h("p", { class: "muted small" }, "An admin can change the margin."));
  show(gate);
  return box;
}

function marginForm(gate, onSaved) {
  const margin = h("input", { type: "number", min: "0", max: "0.5", step: "0.01", value: String(gate.margin), inputmode: "decimal" });
  const reason = h("textarea", { rows: "2", maxlength: "2000", required: true });
  const error = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { novalidate: true, class: "cal-margin-form" },
    h("div", { class: "grid-2" }, field("Margin (0 to 0.5)", margin), field("Reason for the change", reason, { hint: "Required; kept in the audit log." })),
    error, h("button", { type: "submit", class: "btn btn--secondary" }, "Change the margin"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const value = Number(margin.value);
    if (margin.value.trim() === "" || !(value >= 0 && value <= 0.5)) { error.textContent = "The margin must lie between 0 and 0.5."; margin.focus(); return; }
    if (!reason.value.trim()) { error.textContent = "Say why the gate changes."; reason.focus(); return; }
    try {
      const saved = await put("/calibration/gate", { margin: value, reason: reason.value.trim() });
      toast(`The gate's margin is now ${fmt(saved.margin)}.`, "success");
      onSaved(saved);
    } catch (err) {
      error.textContent = err.message;
    }
  });
  return form;
}
