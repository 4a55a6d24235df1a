// #/training/<run>: a training run's progress, its evaluation report (model versus panel beside
// rater versus rater on held-out answers, and subgroup figures), the agreement gate, and the
// promotion a person makes past it (admins and psychologists).

import { get, post } from "/shared/api.js";
import { announce, field, formatDateTime, h, render } from "/shared/dom.js";
import { chip, errorBox, pageHead, refreshScoringNote, table, toast } from "./app.js";
import { competencyNamer, fmt, pct, plural, progressBar } from "./calibration.js";

const POLL_MS = 1000;
const GROUPINGS = { sex: "Sex", race_ethnicity: "Race or ethnicity", age_band: "Age band" };

export async function viewTraining(runId) {
  const [run, snapshots, competency] = await Promise.all([
    get(`/training-runs/${runId}`), get("/calibration/snapshots"), competencyNamer(),
  ]);
  const snapshot = snapshots.find((s) => s.id === run.snapshot_id) || null;
  const batch = snapshot?.batch_id ? await get(`/calibration/batches/${snapshot.batch_id}`).catch(() => null) : null;
  const body = h("div", {});
  const live = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  const node = h("div", {},
    pageHead("Training run", {
      crumbs: [["Calibration", "#/calibration"], ...(batch ? [[batch.name, `#/calibration/${batch.id}`]] : [])],
      lead: snapshot
        ? `Trained on snapshot version ${snapshot.version}: ${plural(snapshot.answer_ids.length, "answer")} labelled by ${plural(snapshot.rater_ids.length, "rater")}, aggregated by ${snapshot.aggregate}.`
        : `Trained on an uploaded labelled file (SHA-256 ${run.data_sha256.slice(0, 12)}…).`,
    }),
    live, body);

  const draw = async (current) => {
    if (current.state === "queued" || current.state === "running") {
      render(body, runningPanel(current));
      return;
    }
    if (current.state === "failed") {
      render(body, h("div", { class: "notice notice--danger", role: "alert" },
        h("p", {}, h("strong", {}, "The training failed. "), current.failure_reason || "No reason was given.")));
      return;
    }
    const [gate, margin] = await Promise.all([get(`/training-runs/${current.id}/gate`), get("/calibration/gate")]);
    render(body, reportPanel(current, competency), gatePanel(current, gate, margin, competency));
  };

  const poll = async () => {
    if (!node.isConnected && polled) return;
    polled = true;
    try {
      const fresh = await get(`/training-runs/${runId}`);
      if (fresh.state === "done" || fresh.state === "failed") {
        await draw(fresh);
        announce(live, fresh.state === "done" ? "Training finished: the report is shown." : "The training failed.");
        return;
      }
      render(body, runningPanel(fresh));
    } catch (err) {
      if (!err.transient) { render(body, errorBox(err)); return; }
    }
    window.setTimeout(poll, POLL_MS);
  };
  let polled = false;
  await draw(run);
  if (run.state === "queued" || run.state === "running") window.setTimeout(poll, POLL_MS);
  return { title: "Training run", node };
}

function runningPanel(run) {
  const { done = 0, total = 0, current = "" } = run.progress || {};
  return h("section", { class: "card", "aria-labelledby": "t-progress" },
    h("h2", { id: "t-progress" }, run.state === "queued" ? "Waiting for a worker" : "Training"),
    progressBar(done, total, total ? `Models trained${current ? `, now ${current}` : ""}` : "Starting"),
    h("p", { class: "muted small" }, `Started ${formatDateTime(run.created_at)}. This page follows the run by itself.`));
}

const cells = (a) => (a ? [fmt(a.qwk), fmt(a.pearson), pct(a.exact), pct(a.adjacent)] : ["–", "–", "–", "–"]);

function reportPanel(run, competency) {
  const report = run.report || {};
  const criteria = report.criteria || [];
  const head = h("thead", {},
    h("tr", {},
      h("th", { scope: "col", rowspan: "2" }, "Criterion"),
      h("th", { scope: "col", rowspan: "2", class: "num" }, "Held-out answers"),
      h("th", { scope: "colgroup", colspan: "4" }, "Model versus panel"),
      h("th", { scope: "colgroup", colspan: "4" }, "Rater versus rater")),
    h("tr", {}, ["κ", "r", "Exact", "Adjacent", "κ", "r", "Exact", "Adjacent"].map((x, i) =>
      h("th", { scope: "col", class: ["num", i === 4 && "cal-split"] }, x))));
  const rows = h("tbody", {}, criteria.map((c) => h("tr", {},
    h("th", { scope: "row" }, competency(c.criterion)),
    h("td", { class: "num" }, String(c.test_items ?? c.model_vs_panel?.n ?? "–")),
    cells(c.model_vs_panel).map((x) => h("td", { class: "num" }, x)),
    cells(c.rater_vs_rater).map((x, i) => h("td", { class: ["num", i === 0 && "cal-split"] }, x)))));
  return h("section", { "aria-labelledby": "t-report" },
    h("h2", { id: "t-report" }, "Evaluation on held-out answers"),
    h("p", { class: "hint" }, `κ: quadratic weighted kappa; r: Pearson correlation; exact and adjacent: the share at the same level and within one level. `
      + `${report.items != null ? `${plural(report.items, "answer")}, ${plural(report.rows || 0, "label")}` : ""}${report.seconds != null ? `, trained in ${report.seconds} s` : ""}.`),
    criteria.length ? h("div", { class: "table-wrap" }, h("table", { class: "cal-report" }, head, rows))
      : h("p", { class: "muted" }, "The report has no criteria."),
    subgroupTable(report.subgroups),
    report.markdown ? h("details", {}, h("summary", {}, "The report as Markdown"), h("pre", { class: "code-sample" }, report.markdown)) : null);
}

function subgroupTable(subgroups) {
  if (!subgroups) {
    return h("p", { class: "muted small" }, "No subgroup figures: no candidate among the held-out answers said anything about themselves in the voluntary questions.");
  }
  const rows = [];
  for (const [dimension, groups] of Object.entries(subgroups)) {
    for (const [group, g] of Object.entries(groups)) {
      rows.push([GROUPINGS[dimension] || dimension, group, String(g.n), fmt(g.model_mean), fmt(g.panel_mean), fmt(g.mean_abs_diff)]);
    }
  }
  return h("div", {},
    h("h3", {}, "Subgroups"),
    h("p", { class: "hint" }, "From the candidates' voluntary self-identification, read after training and never by the model. Groups under two held-out answers show their count only."),
    table(["Grouping", "Group", "Held-out answers", "Model mean level", "Panel mean level", "Mean absolute difference"], rows, { stack: false }));
}

function gateTable(gate, competency) {
  return table(["Criterion", "Model κ", "Raters κ", "Required", "Result", "Why"], gate.criteria.map((c) => [
    competency(c.criterion), fmt(c.model_qwk, 3), fmt(c.raters_qwk, 3), fmt(c.required, 3),
    c.passes ? chip("Passes", "success") : chip("Fails", "danger"), c.reason,
  ]), { stack: false, empty: "No criterion to check." });
}

function gatePanel(run, gate, margin, competency) {
  const promoted = margin.scoring_model_version && margin.scoring_model_version === run.model_version;
  const reason = h("textarea", { rows: "3", maxlength: "2000", required: true });
  const error = h("p", { class: "form-error", role: "alert" });
  const refusal = h("div", { "aria-live": "assertive" });
  const promote = h("button", { type: "submit", class: "btn" }, "Promote this model");
  const form = h("form", { novalidate: true, class: "cal-promote" },
    field("Reason for the promotion", reason, { hint: "Required; kept with the promotion in the audit log." }),
    error,
    h("div", { class: "btn-row" }, promote,
      h("span", { class: "small" }, "Gate: model κ ≥ raters' κ − ", h("strong", { class: "cal-margin" }, fmt(gate.margin)), " on every criterion")),
    refusal);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    render(refusal);
    if (!reason.value.trim()) { error.textContent = "Say why this model should score candidates."; reason.focus(); return; }
    promote.disabled = true;
    try {
      const made = await post(`/training-runs/${run.id}/promote`, { reason: reason.value.trim() });
      toast(`${made.model_version} now scores for your organisation; every answer is being scored again by it.`, "success");
      refreshScoringNote();
      render(form, h("div", { class: "notice notice--success", role: "status" },
        h("p", {}, h("strong", {}, "Promoted. "), `${made.model_version} scores for your organisation from now on; the answers already scored are being scored again.`)));
    } catch (err) {
      promote.disabled = false;
      if (err.code === "gate_failed" && err.details?.gate) {
        const failing = err.details.gate.criteria.filter((c) => !c.passes);
        render(refusal, h("div", { class: "notice notice--danger", role: "alert" },
          h("p", {}, h("strong", {}, "Promotion refused. "), err.message),
          h("ul", {}, failing.map((c) => h("li", {}, `${competency(c.criterion)}: ${c.reason}`)))));
      } else {
        error.textContent = err.message;
      }
    }
  });
  return h("section", { "aria-labelledby": "t-gate" },
    h("h2", { id: "t-gate" }, "Agreement gate and promotion"),
    h("div", { class: ["notice", gate.passes ? "notice--success" : "notice--warning"] },
      h("p", {}, gate.passes
        ? `Every criterion passes the gate at your organisation's margin of ${fmt(gate.margin)}.`
        : `Not every criterion passes the gate at your organisation's margin of ${fmt(gate.margin)}; promotion will be refused.`)),
    gateTable(gate, competency),
    run.model_version ? h("p", { class: "small muted" }, "Model: ", h("code", {}, run.model_version)) : null,
    promoted ? h("p", { class: "notice notice--success" }, "This model scores for your organisation.") : form);
}
