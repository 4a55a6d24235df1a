// The role editor: #/roles/new and #/roles/<id>/edit (admins and recruiters).
// Title, description, rubric version, the ordered script (from the organisation's questions,
// Parley's bank, or a question written here), timings, retakes, and per competency the
// required and "exceeds" levels, with a live preview of where the current candidates fall.

import { get, post, put } from "/shared/api.js";
import { announce, field, h, render } from "/shared/dom.js";
import { chip, errorBox, pageHead, rubrics, toast } from "./app.js";

const MAX_QUESTIONS = 12; // the API's limit on a script
const QUESTION_CHARS = [20, 600];
const BINS = 20;
const BIN_WIDTH = 100 / BINS;
const DEFAULT_LEVELS = { required: 3, exceeds: 4 };

/** A level of the rubric's 1-5 scale on the 0-100 scale of scores (scoring/service.py). */
export const levelScore = (level) => ((level - 1) / 4) * 100;

/**
 * How many candidates fall below, meet and exceed the levels, from 5-point bins. Exact when
 * both lines fall on a bin's edge (whole levels and steps of 0.2 do); a bin a line cuts is
 * counted in the lower band and the result flagged `approximate`.
 */
export function bandCounts(counts, required, exceeds) {
  const out = { below: 0, meets: 0, exceeds: 0, approximate: false };
  const lines = [levelScore(required), levelScore(exceeds)];
  counts.forEach((n, i) => {
    const low = i * BIN_WIDTH;
    const high = i === BINS - 1 ? 100.0001 : low + BIN_WIDTH;
    if (n && lines.some((line) => line > low + 1e-9 && line < high - 1e-9)) out.approximate = true;
    if (low >= lines[1] - 1e-9) out.exceeds += n;
    else if (low >= lines[0] - 1e-9) out.meets += n;
    else out.below += n;
  });
  return out;
}

function bandOfBin(i, required, exceeds) {
  const low = i * BIN_WIDTH;
  if (low >= levelScore(exceeds) - 1e-9) return "exceeds";
  return low >= levelScore(required) - 1e-9 ? "meets" : "below";
}

const NS = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text != null) node.textContent = text;
  return node;
}

/** Bars of the candidates per 5-point bin, shaded by band, with the two levels as lines. */
function bandChart(counts, required, exceeds, name) {
  const width = 460, height = 150, left = 28, right = 12, top = 18, bottom = 22;
  const plotW = width - left - right, plotH = height - top - bottom;
  const max = Math.max(1, ...counts);
  const x = (score) => left + (score / 100) * plotW;
  const barW = plotW / BINS;
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, class: "band-chart", role: "img",
    "aria-label": `${name}: candidates by score; the required level is at ${Math.round(levelScore(required))} and exceeds at ${Math.round(levelScore(exceeds))} out of 100` });
  counts.forEach((n, i) => {
    if (!n) return;
    const barH = (n / max) * plotH;
    svg.append(svgEl("rect", { x: x(i * BIN_WIDTH) + 1, y: top + plotH - barH, width: barW - 2, height: barH,
      class: `band-chart__bar band-chart__bar--${bandOfBin(i, required, exceeds)}` }));
  });
  svg.append(svgEl("line", { x1: left, x2: width - right, y1: top + plotH, y2: top + plotH, class: "band-chart__axis" }));
  for (const tick of [0, 25, 50, 75, 100]) {
    svg.append(svgEl("text", { x: x(tick), y: height - 6, "text-anchor": "middle", class: "band-chart__tick" }, String(tick)));
  }
  svg.append(svgEl("text", { x: left - 6, y: top + 4, "text-anchor": "end", class: "band-chart__tick" }, String(max)));
  const rule = (level, label, cls, anchor) => {
    const at = x(levelScore(level));
    svg.append(svgEl("line", { x1: at, x2: at, y1: top - 4, y2: top + plotH, class: `band-chart__rule ${cls}` }));
    svg.append(svgEl("text", { x: at + (anchor === "end" ? -3 : 3), y: top - 6, "text-anchor": anchor, class: "band-chart__tick" }, label));
  };
  const close = levelScore(exceeds) - levelScore(required) < 20;
  rule(required, `required ${required}`, "band-chart__rule--required", "end");
  rule(exceeds, `exceeds ${exceeds}`, "band-chart__rule--exceeds", close || exceeds < 5 ? "start" : "end");
  return svg;
}

/** The same numbers as a table, for screen readers and anyone who prefers text. */
function binTable(counts, required, exceeds) {
  const rows = counts.map((n, i) => [i, n]).filter(([, n]) => n);
  if (!rows.length) return h("p", { class: "muted small" }, "No scores yet.");
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["Scores", "Candidates", "Band"].map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map(([i, n]) => h("tr", {},
      h("td", {}, i === BINS - 1 ? "95–100" : `${i * BIN_WIDTH}–${i * BIN_WIDTH + BIN_WIDTH - 0.1}`),
      h("td", {}, String(n)),
      h("td", {}, bandOfBin(i, required, exceeds)))))));
}

function describeCounts(c) {
  return `Below: ${c.below} · Meets: ${c.meets} · Exceeds: ${c.exceeds}`
    + (c.approximate ? " (approximate: a line falls inside a 5-point bar)" : "");
}

// ---------------------------------------------------------------- the page

export async function viewRoleEditor(roleId) {
  const [versions, questions, bank, role, spread] = await Promise.all([
    rubrics(), get("/questions"), get("/question-bank"),
    roleId ? get(`/roles/${roleId}`) : null,
    roleId ? get(`/roles/${roleId}/score-distribution`) : null,
  ]);
  if (!versions.length) throw new Error("There is no rubric yet: a psychologist imports one first.");
  const newest = [...versions].sort((a, b) => b.version - a.version)[0];
  const locked = Boolean(role?.candidates_started);
  const draft = {
    rubricVersionId: role?.rubric_version_id || newest.id,
    questionIds: role ? [...role.script].sort((a, b) => a.position - b.position).map((i) => i.question.id) : [],
    levels: new Map((role?.thresholds || []).map((t) => [t.competency_key, { required: t.required_level, exceeds: t.exceeds_level }])),
  };
  const known = new Map(questions.map((q) => [q.id, q]));
  for (const item of role?.script || []) known.set(item.question.id, item.question);
  const distribution = new Map((spread?.competencies || []).map((c) => [c.competency_key, c.counts]));
  const version = () => versions.find((v) => v.id === draft.rubricVersionId) || newest;
  const competencyName = (key) => version().competencies.find((c) => c.key === key)?.name || key.replace(/[-_]/g, " ");
  const status = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });

  const title = h("input", { type: "text", required: true, maxlength: "200", value: role?.title || "" });
  const description = h("textarea", { rows: "3", maxlength: "5000" }, role?.description || "");
  const rubric = h("select", { disabled: locked }, versions.map((v) =>
    h("option", { value: v.id, selected: v.id === draft.rubricVersionId }, `${v.name} · version ${v.version}`)));
  const number = (value, min, max) => h("input", { type: "number", min: String(min), max: String(max), step: "1", inputmode: "numeric", value: String(value) });
  const think = number(role?.think_seconds ?? 30, 0, 600);
  const answer = number(role?.answer_seconds ?? 150, 15, 900);
  const retakes = number(role?.retakes ?? 1, 0, 2);
  retakes.disabled = locked;

  const scriptBox = h("div", {});
  const pickerBox = h("div", {});
  const levelsBox = h("div", {});
  let levelKeys = []; // the competencies whose levels are shown, and saved
  let levelSignature = "";

  const renderScript = (focus) => {
    const items = draft.questionIds.map((id) => known.get(id)).filter(Boolean);
    const inVersion = new Set(version().competencies.map((c) => c.key));
    render(scriptBox, items.length ? h("ol", { class: "script script--edit" }, items.map((q, i) => {
      const n = i + 1;
      const button = (label, action, disabled) => h("button", { type: "button", class: "btn btn--secondary btn--small",
        "aria-label": `${label}: question ${n}`, dataset: { action, id: q.id }, disabled: disabled || locked,
        onclick: () => move(q.id, action) }, label);
      return h("li", {},
        h("div", {}, h("div", {}, q.text),
          h("p", { class: "row" }, chip(competencyName(q.competency_key), "info"),
            inVersion.has(q.competency_key) ? null : chip("not in this rubric version", "danger"))),
        locked ? null : h("div", { class: "btn-row script__actions" },
          button("Move up", "up", i === 0), button("Move down", "down", i === items.length - 1), button("Remove", "remove")));
    })) : h("p", { class: "muted" }, "No questions yet: add some from the list below."));
    if (focus) {
      const target = scriptBox.querySelector(`button[data-id="${focus.id}"][data-action="${focus.action}"]:not([disabled])`)
        || scriptBox.querySelector(`button[data-id="${focus.id}"]:not([disabled])`);
      (target || scriptBox.querySelector("button") || pickerBox.querySelector("button"))?.focus();
    }
  };

  const move = (id, action) => {
    const at = draft.questionIds.indexOf(id);
    if (action === "remove") {
      draft.questionIds.splice(at, 1);
      announce(status, "Question removed from the script.");
      refresh();
      const next = draft.questionIds[Math.min(at, draft.questionIds.length - 1)];
      renderScript(next ? { id: next, action: "remove" } : null);
      return;
    }
    const to = action === "up" ? at - 1 : at + 1;
    if (to < 0 || to >= draft.questionIds.length) return;
    [draft.questionIds[at], draft.questionIds[to]] = [draft.questionIds[to], draft.questionIds[at]];
    announce(status, `Question moved to position ${to + 1} of ${draft.questionIds.length}.`);
    renderScript({ id, action });
  };

  const addQuestion = (id) => {
    if (draft.questionIds.includes(id)) return;
    if (draft.questionIds.length >= MAX_QUESTIONS) { toast(`A script holds at most ${MAX_QUESTIONS} questions.`, "danger"); return; }
    draft.questionIds.push(id);
    announce(status, `Question added as number ${draft.questionIds.length}.`);
    refresh();
  };

  // Parley's shipped questions the organisation lacks are offered too; adding one installs the bank.
  const filter = h("select", {}, h("option", { value: "" }, "All competencies"));
  const renderPicker = () => {
    const keys = new Set(version().competencies.map((c) => c.key));
    const chosen = filter.value;
    render(filter, h("option", { value: "" }, "All competencies"),
      version().competencies.map((c) => h("option", { value: c.key, selected: c.key === chosen }, c.name)));
    const installed = new Set(questions.map((q) => q.key));
    const offered = [
      ...questions.filter((q) => !draft.questionIds.includes(q.id)),
      ...bank.filter((b) => !installed.has(b.key)).map((b) => ({ ...b, fromBank: true })),
    ].filter((q) => keys.has(q.competency_key) && (!filter.value || q.competency_key === filter.value));
    render(pickerBox, offered.length ? h("ul", { class: "question-picker" }, offered.map((q) => h("li", {},
      h("div", {}, h("div", {}, q.text), h("p", { class: "row" }, chip(competencyName(q.competency_key), "info"),
        q.fromBank ? chip("Parley's question bank", "", "chip--outline") : null)),
      h("button", { type: "button", class: "btn btn--secondary btn--small", "aria-label": `Add to the script: ${q.text}`,
        onclick: (event) => (q.fromBank ? addFromBank(q, event.currentTarget) : addQuestion(q.id)) }, "Add"))))
      : h("p", { class: "muted" }, "Every question for this competency is in the script already; write one below."));
  };
  filter.addEventListener("change", renderPicker);

  const addFromBank = async (item, button) => {
    button.disabled = true;
    try {
      await post("/question-bank/install");
      for (const q of await get("/questions")) {
        if (!known.has(q.id)) { known.set(q.id, q); questions.push(q); }
      }
      const installed = questions.find((q) => q.key === item.key);
      if (installed) addQuestion(installed.id);
      toast("Parley's question bank is now in your organisation's questions.", "success");
    } catch (err) {
      toast(err.message, "danger");
      button.disabled = false;
    }
  };

  const customSection = customQuestion(version, (q) => {
    known.set(q.id, q);
    questions.push(q);
    addQuestion(q.id);
  });

  const renderLevels = () => {
    const keys = [...new Set([
      ...draft.questionIds.map((id) => known.get(id)?.competency_key),
      ...draft.levels.keys(),
    ])].filter((k) => k && version().competencies.some((c) => c.key === k));
    const signature = `${draft.rubricVersionId}|${keys.join(",")}`;
    if (signature === levelSignature) return; // redrawn only when the set changes: focus stays
    levelSignature = signature;
    levelKeys = keys;
    for (const key of keys) if (!draft.levels.has(key)) draft.levels.set(key, { ...DEFAULT_LEVELS });
    render(levelsBox, keys.length
      ? keys.map((key) => levelRow(key, competencyName(key), draft.levels.get(key), distribution.get(key), Boolean(roleId)))
      : h("p", { class: "muted" }, "Add questions first: each competency they assess gets its levels here."));
  };
  const refresh = () => { renderScript(); renderPicker(); renderLevels(); };
  rubric.addEventListener("change", () => {
    draft.rubricVersionId = rubric.value;
    customSection.refresh();
    refresh();
  });
  refresh();

  const error = h("div", { class: "form-error", role: "alert" });
  const save = h("button", { type: "submit", class: "btn" }, roleId ? "Save changes" : "Create role");
  const form = h("form", { novalidate: true, class: "role-editor" },
    h("section", { class: "card", "aria-labelledby": "ed-details" },
      h("h2", { id: "ed-details" }, "Details"),
      field("Title", title),
      field("Description", description, { hint: "Shown to staff; candidates see the title." }),
      field("Rubric version", rubric, { hint: "The competencies the answers are scored against." }),
      h("div", { class: "grid-3" },
        field("Think time (seconds)", think, { hint: "0 to 600." }),
        field("Answer limit (seconds)", answer, { hint: "15 to 900." }),
        field("Retakes per question", retakes, { hint: "0 to 2." }))),
    h("section", { class: "card", "aria-labelledby": "ed-script" },
      h("h2", { id: "ed-script" }, "Interview script"),
      h("p", { class: "muted small" }, "Every candidate is asked these questions in this order. Use the buttons to reorder them."),
      scriptBox, status,
      locked ? null : h("div", {},
        h("h3", {}, "Add questions"),
        field("Show questions for", filter),
        pickerBox,
        customSection.node)),
    h("section", { class: "card", "aria-labelledby": "ed-levels" },
      h("h2", { id: "ed-levels" }, "Levels per competency"),
      h("p", { class: "muted small" }, "On the rubric's 1–5 scale; the required level must be below the exceeds level. "
        + "Below the required level reads “not the best fit in this competency”; at or above the exceeds level is shown as a strength. "
        + "Nobody is rejected automatically: the bands only inform people's decisions."),
      roleId ? h("p", { class: "hint" }, "The charts show where this role's current candidates score; the lines move as you change the levels.") : null,
      levelsBox),
    error,
    h("div", { class: "btn-row" }, save, h("a", { class: "btn btn--secondary", href: roleId ? `#/roles/${roleId}` : "#/roles" }, "Cancel")));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    render(error);
    const problem = checkDraft(title, draft, levelKeys, competencyName);
    if (problem) { render(error, h("p", {}, problem.message)); problem.focus?.focus(); return; }
    const body = {
      title: title.value.trim(), description: description.value.trim(), rubric_version_id: draft.rubricVersionId,
      question_ids: [...draft.questionIds],
      thresholds: levelKeys.map((key) => ({
        competency_key: key, required_level: draft.levels.get(key).required, exceeds_level: draft.levels.get(key).exceeds,
      })),
      think_seconds: Number(think.value), answer_seconds: Number(answer.value), retakes: Number(retakes.value),
    };
    save.disabled = true;
    try {
      const saved = roleId ? await put(`/roles/${roleId}`, body) : await post("/roles", body);
      toast(roleId ? "Role saved." : "Role created.", "success");
      window.location.hash = `#/roles/${saved.id}`;
    } catch (err) {
      render(error, h("p", {}, err.message));
      error.focus?.();
    } finally {
      save.disabled = false;
    }
  });

  return {
    title: roleId ? `Edit ${role.title}` : "New role",
    node: h("div", {},
      pageHead(roleId ? `Edit ${role.title}` : "New role", {
        crumbs: roleId ? [["Roles", "#/roles"], [role.title, `#/roles/${roleId}`]] : [["Roles", "#/roles"]] }),
      lockNotice(locked),
      form),
  };
}

function lockNotice(locked) {
  return locked
    ? h("p", { class: "notice notice--warning", role: "note" }, h("strong", {}, "Candidates have started this interview. "),
      "Its questions, their order, the rubric version and the retakes are fixed, so every candidate gets the same interview. "
      + "You can still change the title, the description, the think and answer times (new times apply to questions a candidate has not reached yet) and the levels.")
    : h("p", { class: "notice", role: "note" },
      "Once the first candidate starts (gives or declines consent), the questions, their order, the rubric version and the retakes are fixed, "
      + "so every candidate gets the same interview. The title, description, times and levels can change at any time.");
}

function checkDraft(title, draft, keys, competencyName) {
  if (!title.value.trim()) return { message: "Give the role a title.", focus: title };
  if (!draft.questionIds.length) return { message: "Add at least one question to the script." };
  for (const key of keys) {
    const l = draft.levels.get(key);
    if (!(l.required >= 1 && l.exceeds <= 5 && l.required < l.exceeds)) {
      return { message: `${competencyName(key)}: the levels must be between 1 and 5, with the required level below the exceeds level.` };
    }
  }
  return null;
}

/** One competency's two levels, its chart of the current candidates and the counts per band. */
function levelRow(key, name, levels, counts, editing) {
  const input = (label, value) => h("input", { type: "number", min: "1", max: "5", step: "0.2", inputmode: "decimal", value: String(value), "aria-label": `${label} level for ${name}` });
  const required = input("Required", levels.required);
  const exceeds = input("Exceeds", levels.exceeds);
  const problem = h("p", { class: "form-error", role: "alert" });
  const chartBox = h("div", { class: "band-preview" });
  const summary = h("p", { class: "band-counts", "aria-live": "polite" });
  const tableBox = h("div", {});
  const bins = counts || new Array(BINS).fill(0);
  const draw = () => {
    const r = Number(required.value), e = Number(exceeds.value);
    levels.required = r;
    levels.exceeds = e;
    const valid = r >= 1 && e <= 5 && r < e;
    problem.textContent = valid ? "" : "Levels go from 1 to 5, and the required level must be below the exceeds level.";
    required.toggleAttribute("aria-invalid", !valid);
    exceeds.toggleAttribute("aria-invalid", !valid);
    if (!valid) return;
    const total = bins.reduce((a, b) => a + b, 0);
    if (!total) {
      render(chartBox);
      render(summary, editing ? "No candidate has a score in this competency yet." : "");
      render(tableBox);
      return;
    }
    render(chartBox, bandChart(bins, r, e, name));
    render(summary, describeCounts(bandCounts(bins, r, e)));
    render(tableBox, h("details", {}, h("summary", {}, "The chart as a table"), binTable(bins, r, e)));
  };
  required.addEventListener("input", draw);
  exceeds.addEventListener("input", draw);
  draw();
  return h("fieldset", { class: "level-row", dataset: { competency: key } },
    h("legend", {}, name),
    h("div", { class: "inline-form" }, field("Required level", required), field("Exceeds level", exceeds)),
    problem, chartBox, summary, tableBox);
}

/** Write a question of the organisation's own for a competency of the rubric version. */
function customQuestion(version, onCreated) {
  const competency = h("select", {});
  const text = h("textarea", { rows: "3", maxlength: String(QUESTION_CHARS[1]) });
  const error = h("p", { class: "form-error", role: "alert" });
  const add = h("button", { type: "button", class: "btn btn--secondary" }, "Add this question");
  const fill = () => {
    const chosen = competency.value;
    render(competency, version().competencies.map((c) => h("option", { value: c.key, selected: c.key === chosen }, c.name)));
  };
  fill();
  add.addEventListener("click", async () => {
    error.textContent = "";
    const value = text.value.trim().replace(/\s+/g, " ");
    if (value.length < QUESTION_CHARS[0] || value.length > QUESTION_CHARS[1]) {
      error.textContent = `A question needs ${QUESTION_CHARS[0]} to ${QUESTION_CHARS[1]} characters.`;
      text.focus();
      return;
    }
    add.disabled = true;
    try {
      const q = await post("/questions", { rubric_version_id: version().id, competency_key: competency.value, text: value });
      text.value = "";
      toast("Question added to your organisation's questions and to this script.", "success");
      onCreated(q);
    } catch (err) {
      error.textContent = err.message;
    } finally {
      add.disabled = false;
    }
  });
  const node = h("details", { class: "custom-question" },
    h("summary", {}, "Write a question of your own"),
    h("div", { role: "group", "aria-label": "Write a question" },
      field("Competency it assesses", competency),
      field("Question", text, { hint: `${QUESTION_CHARS[0]}–${QUESTION_CHARS[1]} characters. Ask for one real situation: “Tell me about a time…”. Nothing about age, family, health, beliefs or origin.` }),
      error, h("div", { class: "btn-row" }, add)));
  return { node, refresh: fill };
}
