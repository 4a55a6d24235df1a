// #/calibration/<batch> (admins and psychologists): progress, my queue, agreement tables and
// charts per criterion, the disagreement queue, the calibration session, training snapshots.

import { get, post } from "/shared/api.js";
import { field, formatDateTime, h, render } from "/shared/dom.js";
import { chip, errorBox, pageHead, redraw, table, toast } from "./app.js";
import {
  batchProgress, competencyNamer, fmt, nextToScore, pct, plural, progressBar, queueTable, snapshotTable,
} from "./calibration.js";


const SCOPES = [
  ["first_round", "Blind round"],
  ["before", "Session answers, before re-score"],
  ["after", "Session answers, after re-score"],
  ["final", "Final labels"],
];

function scopesOf(entry) {
  return {
    first_round: entry.first_round, final: entry.final,
    before: entry.session?.before || null, after: entry.session?.after || null,
  };
}

export async function viewBatch(batchId) {
  const [batch, queue, report, sessionItems, snapshots, competency] = await Promise.all([
    get(`/calibration/batches/${batchId}`), get(`/calibration/batches/${batchId}/queue`),
    get(`/calibration/batches/${batchId}/agreement`), get(`/calibration/batches/${batchId}/session`),
    get("/calibration/snapshots"), competencyNamer(),
  ]);
  const names = Object.fromEntries(batch.progress.map((p) => [p.rater_id, p.name]));
  const rater = (id) => names[id] || "A former rater";
  const next = nextToScore(queue);
  const done = queue.filter((a) => a.state === "submitted").length;
  const mineByAnswer = new Map();
  for (const a of queue) if (!mineByAnswer.has(a.answer_id) || a.state !== "submitted") mineByAnswer.set(a.answer_id, a);
  const node = h("div", {},
    pageHead(batch.name, { crumbs: [["Calibration", "#/calibration"]],
      lead: `${plural(batch.rater_ids.length, "rater")} on the panel, ${batch.raters_per_answer} per answer. Created ${formatDateTime(batch.created_at)}.` }),
    h("section", { "aria-labelledby": "b-progress" }, h("h2", { id: "b-progress" }, "Progress"), batchProgress(batch)),
    h("section", { "aria-labelledby": "b-queue" },
      h("div", { class: "row row--between" }, h("h2", { id: "b-queue" }, "My queue"),
        next ? h("a", { class: "btn", href: `#/label/${next.id}` }, "Start scoring") : null),
      queue.length ? [
        progressBar(done, queue.length, "Your labels in this batch"),
        h("details", {}, h("summary", {}, `Your ${plural(queue.length, "assignment")}`),
          queueTable(queue, { [batch.id]: batch.name }, competency)),
      ] : h("p", { class: "muted" }, "You are not on this batch's panel.")),
    agreementSection(batch, report, rater),
    disagreementSection(batch, competency, mineByAnswer),
    sessionSection(batch, sessionItems, competency, mineByAnswer),
    snapshotSection(batch, snapshots.filter((s) => s.batch_id === batch.id)));
  return { title: batch.name, node };
}

function figuresRow(label, f) {
  return [label, String(f.n_items), String(f.n_raters), String(f.n_ratings), fmt(f.icc?.icc21), fmt(f.icc?.icc2k),
    fmt(f.alpha), fmt(f.qwk), pct(f.exact), pct(f.adjacent)];
}

const FIGURE_HEADERS = ["Scope", "Answers", "Raters", "Labels", "ICC(2,1)", "ICC(2,k)", "Krippendorff's α", "Weighted κ", "Exact", "Adjacent"];

function criterionAgreement(entry, name, rater) {
  const scopes = scopesOf(entry);
  const present = SCOPES.filter(([key]) => scopes[key]);
  const detail = (key, label) => {
    const f = scopes[key];
    if (!f) return null;
    return h("div", {},
      h("h4", {}, label),
      table(["Raters", "Shared answers", "Weighted κ", "Exact", "Adjacent"], f.pairwise.map((p) => [
        `${rater(p.a)} & ${rater(p.b)}`, String(p.n), fmt(p.qwk), pct(p.exact), pct(p.adjacent),
      ]), { empty: "No two raters share two answers.", stack: false }),
      table(["Rater", "Answers", "Drift from the others (mean)", "Mean absolute difference"], f.drift.map((d) => [
        rater(d.rater), String(d.n), fmt(d.mean, 2), fmt(d.mean_abs, 2),
      ]), { empty: "No drift figures.", stack: false }),
      driftChart(f.drift, rater, `${name}, ${label.toLowerCase()}`));
  };
  return h("section", { class: "card cal-criterion", "aria-label": `Agreement on ${name}` },
    h("h3", {}, name),
    present.length ? table(FIGURE_HEADERS, present.map(([key, label]) => figuresRow(label, scopes[key])), { stack: false })
      : h("p", { class: "muted" }, "No revealed answers yet."),
    entry.session ? h("p", { class: "small" }, `${plural(entry.session.answers, "answer")} re-scored in the calibration session.`) : null,
    present.length ? agreementChart(present.map(([key, label]) => [label, scopes[key]]), name) : null,
    present.length ? h("details", {}, h("summary", {}, "Rater pairs and each rater's drift"),
      detail("first_round", "Blind round"), detail("after", "Session answers, after re-score"), detail("final", "Final labels")) : null);
}

function agreementSection(batch, report, rater) {
  const overall = scopesOf(report.overall);
  const present = SCOPES.filter(([key]) => overall[key]);
  return h("section", { "aria-labelledby": "b-agreement" },
    h("div", { class: "row row--between" }, h("h2", { id: "b-agreement" }, "Agreement"),
      h("a", { class: "btn btn--secondary btn--small", href: `/api/v1/calibration/batches/${batch.id}/agreement?format=csv`, download: `agreement-${batch.id}.csv` }, "Download CSV")),
    h("p", { class: "hint" }, `Over the ${plural(report.revealed_answers, "revealed answer")} only: an answer counts once every rater assigned to it has scored. `
      + "ICC(2,1) is the reliability of one rater's score, ICC(2,k) that of the panel's mean (two-way random, absolute agreement); "
      + "α is Krippendorff's ordinal alpha; κ the quadratic weighted kappa averaged over rater pairs. “–”: not defined for these labels."),
    report.criteria.length ? report.criteria.map((c) => criterionAgreement(c, c.name, rater)) : h("p", { class: "muted" }, "Nothing is revealed yet."),
    present.length && report.criteria.length > 1 ? h("section", { class: "card", "aria-label": "Agreement over all criteria" },
      h("h3", {}, "All criteria together"),
      table(FIGURE_HEADERS, present.map(([key, label]) => figuresRow(label, overall[key])), { stack: false })) : null);
}

/** A link to the caller's own assignment of an answer: where they read it (and re-score it). */
function answerLink(mine, n) {
  if (!mine) return h("span", { class: "muted small" }, `Answer ${n}`);
  const rescore = mine.round === 2 && mine.state !== "submitted";
  return h("a", { href: `#/label/${mine.id}`, "aria-label": `${rescore ? "Re-score" : "Read"} answer ${n}` },
    rescore ? `Re-score answer ${n}` : `Answer ${n}`);
}

function disagreementSection(batch, competency, mineByAnswer) {
  const box = h("div", { "aria-live": "polite" });
  const minimum = h("select", {}, [1, 2, 3].map((n) => h("option", { value: String(n) }, `${n} level${n === 1 ? "" : "s"} or more`)));
  const load = async () => {
    try {
      const items = await get(`/calibration/batches/${batch.id}/disagreements?min_spread=${minimum.value}`);
      render(box, disagreementList(batch, items, competency, mineByAnswer));
    } catch (err) {
      render(box, errorBox(err, load));
    }
  };
  minimum.addEventListener("change", load);
  load();
  return h("section", { "aria-labelledby": "b-disagree" },
    h("h2", { id: "b-disagree" }, "Disagreements"),
    h("p", { class: "hint" }, "Revealed answers whose raters' levels differ, the widest spread first."),
    h("div", { class: "filter-bar cal-controls" }, field("Spread", minimum)),
    box);
}

function scoresLine(peers) {
  return peers.map((p) => `${p.name}: ${p.level ?? "–"}`).join(" · ");
}

function disagreementList(batch, items, competency, mineByAnswer) {
  if (!items.length) return h("p", { class: "muted" }, "No disagreement of this size among the revealed answers.");
  const open = !batch.session_started_at;
  const boxes = [];
  const rows = items.map((item, i) => {
    const box = open ? h("input", { type: "checkbox", checked: true, value: item.answer_id,
      "aria-label": `Re-score answer ${i + 1} in the session` }) : null;
    if (box) boxes.push(box);
    return [
      box || (item.rounds["2"] ? chip("Re-scored", "success") : item.rescore_pending ? chip(`${item.rescore_pending} re-score${item.rescore_pending === 1 ? "" : "s"} to come`, "warning") : chip("Not in the session", "", "chip--outline")),
      h("div", {}, answerLink(mineByAnswer.get(item.answer_id), i + 1),
        h("span", { class: "cal-question muted small" }, item.question_text)),
      competency(item.competency_key),
      String(item.spread),
      scoresLine(item.rounds["1"] || []),
    ];
  });
  const list = table([open ? "Session" : "Re-score", "Answer", "Criterion", "Spread", "First scores"], rows, { stack: true });
  if (!open) return list;
  const error = h("p", { class: "form-error", role: "alert" });
  const start = h("button", { type: "button", class: "btn" }, "Open calibration session");
  start.addEventListener("click", async () => {
    error.textContent = "";
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    if (!chosen.length) { error.textContent = "Tick at least one answer to discuss and re-score."; return; }
    start.disabled = true;
    try {
      const out = await post(`/calibration/batches/${batch.id}/session`, { answer_ids: chosen });
      toast(`Calibration session open: ${plural(out.answers, "answer")} to re-score by their raters.`, "success");
      redraw();
    } catch (err) {
      error.textContent = err.message;
      start.disabled = false;
    }
  });
  return h("div", {}, list,
    h("p", { class: "hint" }, "Opening the session shows every rater of the ticked answers everyone's first scores and comments, and asks each to score the answer again, apart; the first round is kept."),
    error, h("div", { class: "btn-row" }, start));
}

function sessionSection(batch, items, competency, mineByAnswer) {
  if (!batch.session_started_at) {
    return h("section", { "aria-labelledby": "b-session" }, h("h2", { id: "b-session" }, "Calibration session"),
      h("p", { class: "muted" }, "Not open yet: choose the disagreements to discuss above."));
  }
  const card = (item, i) => {
    const first = item.rounds["1"] || [];
    const second = Object.fromEntries((item.rounds["2"] || []).map((p) => [p.rater_id, p]));
    const revealed = Boolean(item.rounds["2"]);
    return h("article", { class: "card cal-session-item", "aria-labelledby": `s-${i}` },
      h("h3", { id: `s-${i}` }, `Answer ${i + 1} · ${competency(item.competency_key)} · spread ${item.spread}`),
      h("p", { class: "cal-question" }, item.question_text),
      mineByAnswer.get(item.answer_id) ? h("p", {}, answerLink(mineByAnswer.get(item.answer_id), i + 1)) : null,
      table(["Rater", "First score", "First comment", "Re-score", "Re-score comment"], first.map((p) => [
        p.name, p.level == null ? "–" : String(p.level), p.comment || "–",
        revealed ? String(second[p.rater_id]?.level ?? "–") : h("span", { class: "muted" }, "hidden"),
        revealed ? second[p.rater_id]?.comment || "–" : h("span", { class: "muted" }, "hidden"),
      ]), { stack: false }),
      revealed ? null : h("p", { class: "small muted" },
        `Re-scores appear once all raters have re-scored (${plural(item.rescore_pending, "re-score")} to come).`));
  };
  return h("section", { "aria-labelledby": "b-session" },
    h("h2", { id: "b-session" }, "Calibration session"),
    h("p", { class: "hint" }, `Opened ${formatDateTime(batch.session_started_at)}. Everyone's first scores and comments side by side; the re-score round is kept apart from the first.`),
    items.length ? items.map(card) : h("p", { class: "muted" }, "No answer in the session."));
}

function snapshotSection(batch, snapshots) {
  const aggregate = h("select", {}, h("option", { value: "mean" }, "Mean of the raters"), h("option", { value: "median" }, "Median of the raters"));
  const error = h("p", { class: "form-error", role: "alert" });
  const make = h("button", { type: "button", class: "btn" }, "Make training snapshot");
  const list = h("div", {}, snapshotTable(snapshots, { [batch.id]: batch.name }));
  make.addEventListener("click", async () => {
    error.textContent = "";
    make.disabled = true;
    try {
      const s = await post(`/calibration/batches/${batch.id}/snapshots`, { aggregate: aggregate.value });
      toast(`Snapshot version ${s.version}: ${plural(s.answer_ids.length, "answer")} from ${plural(s.rater_ids.length, "rater")}.`, "success");
      snapshots.unshift(s);
      render(list, snapshotTable(snapshots, { [batch.id]: batch.name }));
      list.querySelector("button")?.focus();
    } catch (err) {
      error.textContent = err.message;
    } finally {
      make.disabled = false;
    }
  });
  return h("section", { "aria-labelledby": "b-snapshots" },
    h("h2", { id: "b-snapshots" }, "Training snapshots"),
    h("p", { class: "hint" }, "A snapshot freezes the revealed labels (a complete re-score replacing the first round), with its raters, rubric version and answers; a fifth of the answers, at least two, are held out to evaluate the model against the panel."),
    h("div", { class: "filter-bar cal-controls" }, field("Aggregate", aggregate), h("div", {}, make)),
    error, list);
}

// ---------------------------------------------------------------- charts (hand-built SVG)

const NS = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text != null) node.textContent = text;
  return node;
}

const STATS = [["ICC(2,1)", (f) => f.icc?.icc21], ["ICC(2,k)", (f) => f.icc?.icc2k], ["α", (f) => f.alpha], ["κ", (f) => f.qwk]];

/** Grouped bars: for each statistic, one bar per scope, on a scale from -1 (or 0) to 1. */
function agreementChart(series, name) {
  const values = series.flatMap(([, f]) => STATS.map(([, pick]) => pick(f))).filter((v) => Number.isFinite(v));
  const low = Math.min(0, ...values.map((v) => Math.max(-1, v)));
  const width = 520, height = 190, left = 34, right = 8, top = 12, bottom = 40;
  const plotW = width - left - right, plotH = height - top - bottom;
  const y = (v) => top + ((1 - v) / (1 - low)) * plotH;
  const groupW = plotW / STATS.length;
  const barW = Math.min(22, (groupW - 12) / series.length);
  const summary = series.map(([label, f]) => `${label}: ${STATS.map(([s, pick]) => `${s} ${fmt(pick(f))}`).join(", ")}`).join("; ");
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, class: "cal-chart", role: "img", "aria-label": `${name}, agreement by scope. ${summary}` });
  for (const tick of low < 0 ? [-1, -0.5, 0, 0.5, 1].filter((t) => t >= low) : [0, 0.5, 1]) {
    svg.append(svgEl("line", { x1: left, x2: width - right, y1: y(tick), y2: y(tick), class: tick === 0 ? "cal-chart__axis" : "cal-chart__grid" }));
    svg.append(svgEl("text", { x: left - 4, y: y(tick) + 4, "text-anchor": "end", class: "cal-chart__tick" }, String(tick)));
  }
  STATS.forEach(([stat, pick], g) => {
    const x0 = left + g * groupW + (groupW - barW * series.length) / 2;
    series.forEach(([label, f], s) => {
      const v = pick(f);
      if (!Number.isFinite(v)) return;
      const clipped = Math.max(low, Math.min(1, v));
      const top_ = Math.min(y(clipped), y(0));
      const rect = svgEl("rect", { x: x0 + s * barW, y: top_, width: barW - 2, height: Math.max(1, Math.abs(y(clipped) - y(0))), class: `cal-chart__bar cal-chart__bar--s${SCOPES.findIndex(([, l]) => l === label)}` });
      rect.append(svgEl("title", {}, `${label}, ${stat}: ${fmt(v)}`));
      svg.append(rect);
    });
    svg.append(svgEl("text", { x: left + g * groupW + groupW / 2, y: height - bottom + 14, "text-anchor": "middle", class: "cal-chart__tick" }, stat));
  });
  const legend = h("ul", { class: "cal-legend small", "aria-hidden": "true" }, series.map(([label]) => h("li", {},
    h("span", { class: `cal-legend__swatch cal-chart__bar--s${SCOPES.findIndex(([, l]) => l === label)}` }), label)));
  return h("figure", { class: "cal-figure" }, svg, legend);
}

/** Each rater's mean drift from the others, as bars left (stricter) or right (more lenient) of 0. */
function driftChart(drift, rater, name) {
  const rows = drift.filter((d) => Number.isFinite(d.mean));
  if (!rows.length) return null;
  const span = Math.max(1, ...rows.map((d) => Math.abs(d.mean)));
  const rowH = 24, left = 150, right = 40, width = 520, top = 8;
  const height = top + rows.length * rowH + 22;
  const mid = left + (width - left - right) / 2;
  const x = (v) => mid + (v / span) * ((width - left - right) / 2);
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, class: "cal-chart", role: "img",
    "aria-label": `${name}: each rater's drift from the others. ${rows.map((d) => `${rater(d.rater)} ${fmt(d.mean)}`).join(", ")}` });
  rows.forEach((d, i) => {
    const cy = top + i * rowH;
    svg.append(svgEl("text", { x: left - 6, y: cy + 15, "text-anchor": "end", class: "cal-chart__tick" }, rater(d.rater)));
    svg.append(svgEl("rect", { x: Math.min(x(d.mean), mid), y: cy + 4, width: Math.max(1, Math.abs(x(d.mean) - mid)), height: rowH - 8,
      class: d.mean >= 0 ? "cal-chart__bar cal-chart__bar--lenient" : "cal-chart__bar cal-chart__bar--strict" }));
    svg.append(svgEl("text", { x: d.mean >= 0 ? x(d.mean) + 4 : x(d.mean) - 4, y: cy + 15, "text-anchor": d.mean >= 0 ? "start" : "end", class: "cal-chart__tick" }, fmt(d.mean)));
  });
  const base = top + rows.length * rowH;
  svg.append(svgEl("line", { x1: mid, x2: mid, y1: top, y2: base, class: "cal-chart__axis" }));
  svg.append(svgEl("text", { x: x(-span), y: base + 16, "text-anchor": "start", class: "cal-chart__tick" }, `stricter (−${fmt(span, 1)})`));
  svg.append(svgEl("text", { x: x(span), y: base + 16, "text-anchor": "end", class: "cal-chart__tick" }, `more lenient (+${fmt(span, 1)})`));
  return h("figure", { class: "cal-figure" }, svg);
}
