// #/label/<assignment>: one answer scored blind against the rubric's anchors (admins and
// psychologists on a batch's panel). Keyboard first: the number keys choose a level, Enter
// (outside the comment box) or Ctrl+Enter submits; drafts are saved as they change.

import { get, put } from "/shared/api.js";
import { announce, clock, field, h, render } from "/shared/dom.js";
import { chip, pageHead } from "./app.js";
import { ROUND_NAMES, nextToScore, peerTable } from "./calibration.js";

const DRAFT_DELAY_MS = 600;

export async function viewLabel(assignmentId) {
  const view = await get(`/calibration/assignments/${assignmentId}`);
  const { assignment } = view;
  const queue = await get(`/calibration/batches/${assignment.batch_id}/queue`);
  const state = { level: assignment.level, comment: assignment.comment || "", submitted: assignment.state === "submitted" };
  const sameRound = queue.filter((a) => a.round === assignment.round);
  const index = sameRound.findIndex((a) => a.id === assignment.id);
  const live = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  const saveStatus = h("p", { class: "cal-save small", "aria-live": "polite" },
    assignment.state === "draft" ? "Draft saved" : "");
  const competency = view.competency;

  // -------------------------------------------------------------- the answer and its playback
  let media = null;
  if (view.media_url) {
    const video = (view.media_type || "").startsWith("video/");
    media = h(video ? "video" : "audio", { controls: true, preload: "metadata", src: view.media_url, "aria-label": "Recording of the answer" });
  }
  const transcript = transcriptBox(view, media);

  // -------------------------------------------------------------- the rubric and the level
  const levelLabel = (level) => {
    for (const ind of competency?.indicators || []) {
      const found = ind.levels.find((l) => l.level === level);
      if (found) return found.label;
    }
    return "";
  };
  const anchorItems = [];
  const rubric = h("section", { class: "cal-rubric", "aria-labelledby": "l-rubric" },
    h("h2", { id: "l-rubric" }, competency ? competency.name : "Rubric"),
    competency?.description ? h("p", { class: "muted" }, competency.description) : null,
    (competency?.indicators || []).map((ind) => h("details", { class: "indicator", open: true },
      h("summary", {}, ind.text),
      h("ol", { class: "levels" }, ind.levels.map((lv) => {
        const item = h("li", { dataset: { level: String(lv.level) } },
          h("div", {}, h("span", { class: "level-label" }, `${lv.level} · ${lv.label}: `), lv.anchor),
          lv.examples.length ? h("ul", { class: "examples", "aria-label": `Example answers at level ${lv.level}` },
            lv.examples.map((ex) => h("li", {}, `“${ex}”`))) : null);
        anchorItems.push(item);
        return item;
      })))));

  const buttons = view.levels.map((level) => h("button", {
    type: "button", class: "cal-level", "aria-pressed": "false", dataset: { level: String(level) },
    "aria-keyshortcuts": level < 10 ? String(level) : null,
  }, h("span", { class: "cal-level__n" }, String(level)), " ", h("span", { class: "cal-level__label" }, levelLabel(level))));
  const levelGroup = h("div", { class: "cal-levels", role: "group", "aria-labelledby": "l-level" }, buttons);
  const comment = h("textarea", { rows: "4", maxlength: "4000", name: "comment" }, state.comment);
  comment.value = state.comment;
  const error = h("p", { class: "form-error", role: "alert" });
  const submitButton = h("button", { type: "button", class: "btn", "aria-keyshortcuts": "Control+Enter" }, "Submit score");
  const after = h("div", { class: "cal-after" });
  const next = nextToScore(queue, assignment.id);
  const nextLink = next
    ? h("a", { class: "btn btn--secondary", href: `#/label/${next.id}` }, "Next")
    : h("a", { class: "btn btn--secondary", href: `#/calibration/${assignment.batch_id}` }, "Back to the batch");

  const blindHint = state.submitted ? null : h("p", { class: "small muted" }, assignment.round === 1
    ? "You score blind: other raters' scores appear once everyone has scored."
    : "Your re-score is kept apart from your first; the others' re-scores appear once everyone has re-scored.");

  const showLevel = () => {
    for (const b of buttons) b.setAttribute("aria-pressed", String(Number(b.dataset.level) === state.level));
    for (const li of anchorItems) li.classList.toggle("anchor--chosen", Number(li.dataset.level) === state.level);
  };
  const lock = () => {
    blindHint?.remove();
    for (const b of buttons) b.disabled = true;
    comment.readOnly = true;
    submitButton.hidden = true;
  };

  // -------------------------------------------------------------- drafts
  let timer = 0;
  let dirty = false;
  let saving = Promise.resolve();
  const saveDraft = () => {
    window.clearTimeout(timer);
    if (!dirty || state.submitted) return saving;
    dirty = false;
    const body = { level: state.level, comment: state.comment, submit: false };
    saveStatus.textContent = "Saving…";
    saving = saving.then(() => put(`/calibration/assignments/${assignment.id}`, body)).then(() => {
      if (!state.submitted && !dirty) saveStatus.textContent = `Saved ${new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
    }).catch((err) => {
      dirty = true;
      saveStatus.textContent = `Not saved: ${err.message}`;
    });
    return saving;
  };
  const changed = () => {
    dirty = true;
    saveStatus.textContent = "Unsaved changes";
    window.clearTimeout(timer);
    timer = window.setTimeout(saveDraft, DRAFT_DELAY_MS);
  };
  const choose = (level, { fromKey = false } = {}) => {
    if (state.submitted || !view.levels.includes(level)) return;
    state.level = level;
    error.textContent = "";
    showLevel();
    announce(live, `Level ${level}${levelLabel(level) ? `, ${levelLabel(level)}` : ""} chosen.${fromKey ? " Press Enter to submit." : ""}`);
    changed();
  };
  for (const b of buttons) b.addEventListener("click", () => choose(Number(b.dataset.level)));
  comment.addEventListener("input", () => { state.comment = comment.value; changed(); });

  // -------------------------------------------------------------- submitting
  let submitting = false;
  const submit = async () => {
    if (state.submitted || submitting) return;
    if (state.level == null) {
      error.textContent = "Choose a level first: press a number key or a level button.";
      buttons[0]?.focus();
      return;
    }
    submitting = true;
    submitButton.disabled = true;
    window.clearTimeout(timer);
    dirty = false;
    await saving;
    try {
      await put(`/calibration/assignments/${assignment.id}`, { level: state.level, comment: state.comment, submit: true });
      state.submitted = true;
      lock();
      saveStatus.textContent = "Submitted";
      const fresh = await get(`/calibration/assignments/${assignment.id}`);
      showAfter(fresh.peers, true);
    } catch (err) {
      if (err.code === "already_submitted") {
        state.submitted = true;
        lock();
        showAfter((await get(`/calibration/assignments/${assignment.id}`)).peers, true);
      } else {
        error.textContent = err.message;
        submitButton.disabled = false;
      }
    } finally {
      submitting = false;
    }
  };
  submitButton.addEventListener("click", submit);

  const showAfter = (peers, justNow) => {
    const heading = h("h2", { id: "l-after", tabindex: "-1" }, justNow ? "Score submitted" : "Your score is submitted");
    const shown = peers && (assignment.round === 1 ? peers["1"] : peers["2"]);
    render(after, heading,
      h("p", {}, `You gave level ${state.level}.`),
      shown ? h("div", {},
        assignment.round === 2 && peers["1"] ? peerTable(peers["1"], "Everyone's first scores") : null,
        peerTable(shown, assignment.round === 2 ? "Everyone's re-scores" : "Everyone's scores"))
        : h("p", { class: "notice" }, "Other raters' scores appear once everyone has scored."),
      h("div", { class: "btn-row" }, nextLink));
    if (justNow) {
      announce(live, `Score submitted.${shown ? " Everyone's scores are shown." : " Other raters' scores appear once everyone has scored."}`);
      nextLink.focus();
    }
  };

  // -------------------------------------------------------------- the keyboard
  const onKey = (event) => {
    if (!node.isConnected) {
      if (mounted) document.removeEventListener("keydown", onKey);
      return;
    }
    mounted = true;
    if (event.defaultPrevented || event.altKey || event.metaKey) return;
    const target = event.target instanceof Element ? event.target : null;
    if (event.key === "Enter" && event.ctrlKey) { event.preventDefault(); submit(); return; }
    if (event.ctrlKey || state.submitted) return;
    if (target?.closest("textarea, input, select, [contenteditable]")) return;
    if (/^[0-9]$/.test(event.key)) {
      const level = Number(event.key);
      if (view.levels.includes(level)) { event.preventDefault(); choose(level, { fromKey: true }); }
      return;
    }
    if (event.key === "Enter") {
      if (target?.closest("a, summary, audio, video, button:not(.cal-level)")) return;
      event.preventDefault();
      submit();
    }
  };
  let mounted = false;
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", () => { saveDraft(); document.removeEventListener("keydown", onKey); }, { once: true });

  // -------------------------------------------------------------- the page
  const peersFirst = assignment.round === 2 && view.peers?.["1"];
  const scoring = h("section", { class: "card cal-scoring", "aria-labelledby": "l-level" },
    h("h2", { id: "l-level" }, "Your level"),
    h("p", { class: "hint", id: "l-keys" }, `Press ${view.levels[0]}–${view.levels[view.levels.length - 1]} (or a button) to choose a level; Enter or Ctrl+Enter submits. Drafts are saved as you go.`),
    levelGroup,
    field("Comment", comment, { hint: "Why this level: what in the answer matches the anchor. Optional; the panel sees it after the reveal." }),
    saveStatus, error,
    h("div", { class: "btn-row" }, submitButton, state.submitted ? null : nextLink),
    blindHint, after);
  const node = h("div", { class: "cal-label" },
    pageHead(`Answer ${index + 1} of ${sameRound.length}`, {
      crumbs: [["Calibration", "#/calibration"], [view.batch_name, `#/calibration/${assignment.batch_id}`]] }),
    h("p", { class: "row" }, chip(ROUND_NAMES[assignment.round] || `Round ${assignment.round}`, assignment.round === 2 ? "warning" : "info"),
      competency ? chip(competency.name) : null),
    live,
    h("div", { class: "cal-label__layout" },
      h("div", { class: "cal-label__answer" },
        h("section", { class: "card", "aria-labelledby": "l-question" },
          h("h2", { id: "l-question" }, "Question"),
          h("p", { class: "question" }, view.question_text),
          media, transcript),
        peersFirst ? h("section", { class: "card", "aria-labelledby": "l-first" },
          h("h2", { id: "l-first" }, "The panel's first scores"),
          peerTable(view.peers["1"], "Discussed in the calibration session")) : null,
        rubric),
      scoring));

  if (state.level != null) showLevel();
  if (state.submitted) {
    lock();
    showAfter(view.peers, false);
  }
  return { title: `Scoring · ${view.batch_name}`, node };
}

/** The transcript, without the candidate's name; with a recording, a word plays from there. */
function transcriptBox(view, media) {
  const words = view.words || [];
  const box = h("div", { class: "transcript", tabindex: "0", role: "region", "aria-label": "Transcript of the answer" });
  if (!words.length) {
    box.append(view.transcript || "(empty transcript)");
    return h("div", { class: "transcript-box" }, h("h3", {}, "Transcript"), box);
  }
  const spans = words.map((w, i) => h("span", {
    class: ["word", w.probability != null && w.probability < 0.5 && "word--low"],
    dataset: { i: String(i) }, title: media ? `Play from ${clock(w.start)}` : null,
  }, String(w.text).trim()));
  spans.forEach((span) => box.append(span, " "));
  if (media) {
    let current = -1;
    const highlight = () => {
      let found = -1;
      for (let i = 0; i < words.length && words[i].start <= media.currentTime; i += 1) found = i;
      if (found === current) return;
      if (current >= 0) spans[current].classList.remove("word--current");
      current = found;
      if (found >= 0) spans[found].classList.add("word--current");
    };
    media.addEventListener("timeupdate", highlight);
    media.addEventListener("seeked", highlight);
    box.addEventListener("click", (event) => {
      const span = event.target.closest(".word");
      if (!span) return;
      seek(media, words[Number(span.dataset.i)].start);
    });
  }
  return h("div", { class: "transcript-box" },
    h("h3", {}, "Transcript"),
    media ? h("p", { class: "hint" }, "Select a word to play the recording from there.") : null,
    box);
}

function seek(media, time) {
  const go = () => {
    media.currentTime = time;
    media.play().catch(() => { /* the person can press play */ });
  };
  if (media.readyState >= 1) go();
  else {
    media.addEventListener("loadedmetadata", go, { once: true });
    media.load();
  }
}
