// The candidate's interview: welcome and consent -> device check -> guidelines -> each question
// (think, record, upload, check) -> finish. The invitation token is read from the link's
// #fragment (never sent in a URL to the server) and travels in the X-Invite-Token header.

import { ApiError, get, getBinary, post, put, setInviteToken } from "/shared/api.js";
import { announce, clock, durationWords, h, render, sleep } from "/shared/dom.js";
import { Avatar } from "/interview/avatar.js";
import { rightsSection } from "/interview/rights.js";
import { OPEN_LINK_PREFIX, openLinkPage } from "/interview/open-link.js";
import {
  AnswerRecorder, LevelMeter, openDevices, pickMimeType, recordSample, stopStream,
} from "/interview/recorder.js";

const main = document.getElementById("main");
const live = document.getElementById("live");
const contextEl = document.getElementById("context");
const bannerEl = document.getElementById("banner");

const S = {
  data: null,          // GET /candidate/interview
  media: null,         // {stream, hasVideo, cameraProblem, mimeType}
  meter: null,         // LevelMeter while a step shows one
  timers: [],          // intervals/timeouts of the current step
  busy: false,         // recording or uploading: warn before leaving the page
  noSpeech: new Set(), // question ids whose answer had no speech
  watching: true,      // background answer checks run until the interview ends
  avatar: null,        // the interviewer, created once and moved into each step
  stage: null,         // the avatar's element
  introduced: false,   // the avatar has said that it is an AI, in this visit
  spokeQuestion: false, // a question was already asked in this visit (for the transitions)
  speechTurn: 0,       // bumped to cut short what the avatar is saying
};

// ---------------------------------------------------------------- the avatar's voice

const voice = { urls: new Map(), pending: new Map() };

/** The line's audio as a blob: URL, or null after a few seconds (the caption is enough). */
function lineAudio(id) {
  if (voice.urls.has(id)) return Promise.resolve(voice.urls.get(id));
  if (!voice.pending.has(id)) {
    const fetching = (async () => {
      const deadline = performance.now() + 10000;
      while (performance.now() < deadline) {
        try {
          const out = await getBinary(`/candidate/speech/${encodeURIComponent(id)}`);
          if (out.status === 200) {
            const url = URL.createObjectURL(out.blob);
            voice.urls.set(id, url);
            return url;
          }
          await sleep(Math.min(2000, out.retryAfter * 1000));
        } catch {
          return null;
        }
      }
      return null;
    })();
    voice.pending.set(id, fetching);
    fetching.finally(() => voice.pending.delete(id));
  }
  return voice.pending.get(id);
}

function lineText(id) {
  const line = (S.data.lines || []).find((l) => l.id === id);
  return line ? line.text : "";
}

/** Ask the server for every line now, so the audio is ready by the time it is needed. */
async function prefetchLines() {
  for (const line of S.data.lines || []) await lineAudio(line.id);
}

function stage() {
  if (!S.avatar) {
    S.stage = h("div", { class: "stage" });
    S.avatar = new Avatar(S.stage);
  }
  S.avatar.setState("idle");
  return S.stage;
}

/** The avatar says these lines, one after the other, each with its caption. */
async function speak(...ids) {
  stage();
  const turn = ++S.speechTurn;
  for (const id of ids) {
    const text = lineText(id);
    if (!text) continue;
    const url = await lineAudio(id);
    if (turn !== S.speechTurn || !S.stage.isConnected) return;
    await S.avatar.say(text, url);
  }
  if (turn === S.speechTurn) S.avatar.setState("idle");
}

/** Stop the avatar mid-line, and the lines after it. */
function hush() {
  S.speechTurn += 1;
  if (S.avatar) S.avatar.stop();
}

// ---------------------------------------------------------------- helpers

function say(message) { announce(live, message); }

function clearStep() {
  for (const t of S.timers) { window.clearInterval(t); window.clearTimeout(t); }
  S.timers = [];
  if (S.meter) { S.meter.stop(); S.meter = null; }
}

function show(title, ...children) {
  clearStep();
  document.title = `${title} · Parley`;
  render(main, ...children);
  const heading = main.querySelector("h1");
  if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  window.scrollTo(0, 0);
}

function sorted() { return [...S.data.questions].sort((a, b) => a.position - b.position); }
function numberOf(questionId) { return sorted().findIndex((q) => q.question_id === questionId) + 1; }

function errorNotice(message, ...actions) {
  return h("div", { class: "notice notice--danger", role: "alert" }, h("p", {}, message),
    actions.length ? h("div", { class: "btn-row" }, actions) : null);
}

function minutesEstimate(d) {
  // Most answers use part of the time allowed; add a few minutes for reading and the device check.
  const seconds = d.questions.length * (d.think_seconds + 0.6 * d.answer_seconds) + 180;
  return Math.max(5, Math.round(seconds / 300) * 5);
}

window.addEventListener("beforeunload", (event) => {
  if (!S.busy) return;
  event.preventDefault();
  event.returnValue = ""; // the browser shows its own "leave site?" text
});

function meterEl() {
  const fill = h("div", { class: "meter__fill" });
  const el = h("div", { class: "meter", role: "meter", "aria-label": "Microphone level", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, fill);
  let lastAria = 0;
  const set = (level) => {
    fill.style.width = `${Math.round(level * 100)}%`;
    const now = performance.now();
    if (now - lastAria > 500) { el.setAttribute("aria-valuenow", String(Math.round(level * 100))); lastAria = now; }
  };
  return { el, set };
}

function previewEl(stream, small = false) {
  const video = h("video", { autoplay: true, muted: true, playsinline: true, "aria-label": "Your camera preview" });
  video.muted = true;
  video.srcObject = stream;
  video.play().catch(() => {});
  return h("div", { class: ["preview", small && "preview--small"] }, video);
}

function setBanner(...children) {
  if (!children.length) { bannerEl.hidden = true; render(bannerEl); return; }
  render(bannerEl, ...children);
  bannerEl.hidden = false;
}

// ---------------------------------------------------------------- start

// A different link pasted into the same tab: start again with that token.
window.addEventListener("hashchange", () => window.location.reload());

async function boot() {
  const token = decodeURIComponent((window.location.hash || "").replace(/^#/, "")).trim();
  if (!token) { linkProblem(null); return; }
  if (token.startsWith(OPEN_LINK_PREFIX)) {
    await openLinkPage(token.slice(OPEN_LINK_PREFIX.length), { show, contextEl, onJoined: joined });
    return;
  }
  setInviteToken(token);
  await load();
}

/** An interview made from an open link continues under its own token, as if opened from it. */
async function joined(inviteToken) {
  window.history.replaceState(null, "", `#${inviteToken}`);
  setInviteToken(inviteToken);
  await load();
}

async function load() {
  try {
    S.data = await get("/candidate/interview");
  } catch (err) {
    if (err.status === 401 || err.status === 410) { linkProblem(err); return; }
    show("Something went wrong", h("h1", {}, "We could not open your interview"),
      errorNotice(err.message, h("button", { type: "button", class: "btn", onclick: load }, "Try again")));
    return;
  }
  contextEl.textContent = `${S.data.role_title} · ${S.data.organisation}`;
  for (const q of S.data.questions) if (q.answer_state === "no_speech") S.noSpeech.add(q.question_id);
  route();
  if (["invited", "consented", "in_progress"].includes(S.data.state)) prefetchLines();
}

function route() {
  const d = S.data;
  switch (d.state) {
    case "invited": welcome(); break;
    case "consented":
    case "in_progress":
      if (d.next_question === null) finish(); else if (d.typed_answers) guidelines(); else deviceCheck();
      break;
    case "completed": thanks(); break;
    case "human_review": humanReview(); break;
    case "expired": linkProblem(new ApiError(410, "expired", "This interview link has expired. Ask the recruiter for a new one.")); break;
    default: welcome();
  }
}

function linkProblem(err) {
  const expired = err && err.status === 410;
  show(expired ? "Link expired" : "Link not valid",
    h("h1", {}, expired ? "This interview link has expired" : "This interview link does not work"),
    h("p", { class: "lead" }, err ? err.message : "The link is incomplete. Open the interview from the link in your invitation email, exactly as you received it."),
    // Data rights outlast the time to answer: an expired link still reaches them.
    expired ? rightsSection() : h("p", {},
      "Check that you copied the whole link, including the part after the # sign. If it still does not work, contact the recruiter who invited you."));
}

// ---------------------------------------------------------------- welcome and consent

function welcome() {
  const d = S.data;
  const n = d.questions.length;
  const competencies = Array.isArray(d.competencies) && d.competencies.length
    ? h("ul", { class: "competencies" }, d.competencies.map((c) => (typeof c === "string" ? h("li", {}, c)
      : h("li", {}, h("strong", {}, c.name || c.key), c.description ? `: ${c.description}` : ""))))
    : null;
  const consentBox = h("div", { class: "card consent" });

  const items = [
    ["How it works",
      `You answer ${n} questions by speaking, one at a time. Before each answer you have ${durationWords(d.think_seconds)} to think (you can start sooner), then up to ${durationWords(d.answer_seconds)} to answer, with a countdown on screen. If you lose your connection, open this link again: you continue at the next unanswered question.`],
    ["What is recorded",
      "Your voice while you answer each question, and your camera picture if you choose to turn it on. The camera is optional and is never used to assess you. Nothing is recorded between questions."],
    ["How your answers are assessed",
      [h("p", {}, `An AI system transcribes what you say and assesses the content of your answers, such as the real examples you give and what you did, against the competencies ${d.organisation} chose for this role`,
        competencies ? ":" : "."),
        competencies,
        h("p", {}, "It does not assess your voice, accent, face, appearance or emotions, and it decides nothing: a person at ", d.organisation, " reviews your interview and decides on the next step.")]],
    ["Who sees your data",
      [`The recruiting team at ${d.organisation}, and the occupational psychologists who check that the assessment is fair. Parley processes your interview on their behalf and shares it with no one else. `,
        d.retention_days ? `Your interview is deleted after ${d.retention_days} days. ` : "It is kept only as long as the recruitment needs it, then deleted. ",
        "You can ask to see or download your data, or to have it deleted, at any time."]],
    ["Adjustments and alternatives",
      [`If you need extra time, a typed alternative or another adjustment, ask the recruiter who sent you this link${d.contact_email ? ` (${d.contact_email})` : ""} before you start. `,
        "If you prefer, you can choose a review by a person only, with no AI assessment: use the button at the end of this page."]],
  ];

  const renderConsent = (message) => {
    const check = h("input", { type: "checkbox", id: "consent-check" });
    const error = h("p", { class: "form-error", role: "alert" }, message || "");
    const agree = h("button", { type: "submit", class: "btn" }, "Agree and continue");
    const human = h("button", { type: "button", class: "btn btn--secondary" }, "I prefer a human-only review");
    const form = h("form", { novalidate: true },
      h("h2", {}, "Your consent"),
      h("div", { class: "check" }, check,
        h("label", { for: "consent-check" },
          "I have read this page. I agree that my answers are recorded, transcribed and assessed by an AI as described, and that a person makes the decisions.")),
      error,
      h("div", { class: "btn-row" }, agree, human),
      h("p", { class: "version" }, `Notice version ${d.notice_version}`));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      if (!check.checked) {
        error.textContent = "Tick the box to agree, or choose a human-only review.";
        check.focus();
        return;
      }
      agree.disabled = true;
      human.disabled = true;
      try {
        await post("/candidate/consent", { accepted: true, notice_version: d.notice_version });
        S.data.state = "consented";
        if (d.typed_answers) guidelines(); else deviceCheck();
      } catch (err) {
        await handleConsentError(err, error);
        agree.disabled = false;
        human.disabled = false;
      }
    });
    human.addEventListener("click", () => renderHumanConfirm());
    render(consentBox, form);
  };

  const renderHumanConfirm = () => {
    const error = h("p", { class: "form-error", role: "alert" });
    const yes = h("button", { type: "button", class: "btn" }, "Yes, ask for a human-only review");
    const back = h("button", { type: "button", class: "btn btn--secondary" }, "Go back");
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        await post("/candidate/consent", { accepted: false, notice_version: d.notice_version });
        S.data.state = "human_review";
        humanReview();
      } catch (err) {
        await handleConsentError(err, error);
        yes.disabled = false;
      }
    });
    back.addEventListener("click", () => { renderConsent(); consentBox.querySelector("input").focus(); });
    render(consentBox,
      h("h2", { tabindex: "-1" }, "Ask for a human-only review?"),
      h("p", {}, `You will not record an interview here, and no AI will assess you. ${d.organisation} will be told that you prefer a review by a person, and will contact you about the next step.`),
      error, h("div", { class: "btn-row" }, yes, back));
    consentBox.querySelector("h2").focus();
  };

  renderConsent();
  show("Welcome",
    h("h1", {}, `Your interview for ${d.role_title}`),
    h("p", { class: "lead" }, `${d.organisation} invites you to a short structured interview: the same questions, asked the same way, to every applicant. It takes about ${minutesEstimate(d)} minutes.`),
    h("p", {}, "Find a quiet place, and use a phone or a computer with a microphone. Please read how it works before you agree."),
    h("ul", { class: "info-list" }, items.map(([title, body]) => h("li", {}, h("h2", {}, title),
      h("div", {}, Array.isArray(body) ? body : h("p", {}, body))))),
    consentBox);
}

async function handleConsentError(err, errorEl) {
  if (err.status === 401 || err.status === 410) { linkProblem(err); return; }
  errorEl.textContent = err.message;
  if (err.code === "stale_notice" || err.code === "illegal_transition") {
    // The notice changed or the interview moved on elsewhere: reload what the server says.
    await sleep(1500);
    await load();
  }
}

function humanReview() {
  const d = S.data;
  show("Human-only review",
    h("h1", {}, "A person will review your application"),
    h("div", { class: "card end" },
      h("p", {}, `We have told ${d.organisation} that you prefer a review by a person, without an AI assessment. There is nothing to record here.`),
      h("p", {}, "The recruiting team will contact you about the next step. You can close this page.")),
    rightsSection());
}

// ---------------------------------------------------------------- device check

const HELP = {
  denied: ["Your browser is blocking the microphone.",
    "Allow the microphone for this site: select the lock or camera icon next to the address, or on a phone open Settings, then your browser, then Microphone. Then select “Try again”."],
  not_found: ["We could not find a microphone.",
    "Plug in a headset or microphone, or open this link on a phone, then select “Try again”."],
  busy: ["Your microphone is being used by another app.",
    "Close other apps that may use it, such as a video call, then select “Try again”."],
  insecure: ["This page cannot use the microphone over an insecure connection.",
    "Open the interview from the link exactly as you received it (it starts with https)."],
  unsupported: ["This browser cannot record audio.",
    "Use a recent version of Chrome, Edge, Firefox or Safari."],
  other: ["We could not start your microphone.",
    "Reload the page and try again. If it keeps happening, try another browser or device."],
};

function deviceCheck() {
  const d = S.data;
  const answered = d.questions.filter((q) => q.answer_state && q.answer_state !== "receiving").length;
  const nextNumber = sorted().findIndex((q) => q.position === d.next_question) + 1;
  const useCamera = h("input", { type: "checkbox", id: "use-camera", checked: !S.media || S.media.hasVideo });
  const area = h("div", { class: "device-area", "aria-live": "polite" });
  const start = h("button", { type: "button", class: "btn" }, S.media ? "Check again" : "Start the check");

  const run = async () => {
    start.disabled = true;
    clearStep();
    if (S.media) { stopStream(S.media.stream); S.media = null; }
    render(area, h("p", { class: "muted" }, h("span", { class: "spinner", "aria-hidden": "true" }), " Waiting for your browser's permission…"));
    try {
      const opened = await openDevices({ video: useCamera.checked });
      S.media = { ...opened, mimeType: pickMimeType(opened.hasVideo) };
      if (S.media.mimeType === null) throw Object.assign(new Error("unsupported"), { kind: "unsupported" });
      working();
      start.hidden = false;
      start.textContent = "Check again";
      start.classList.add("btn--secondary");
    } catch (err) {
      start.hidden = true; // the notice has its own "Try again"
      const [title, help] = HELP[err.kind] || HELP.other;
      render(area, h("div", { class: "notice notice--danger", role: "alert" },
        h("p", {}, h("strong", {}, title)), h("p", {}, help),
        h("div", { class: "btn-row" }, h("button", { type: "button", class: "btn", onclick: run }, "Try again"))));
    } finally {
      start.disabled = false;
    }
  };

  const working = () => {
    const { stream, hasVideo, cameraProblem } = S.media;
    const meter = meterEl();
    const heard = h("p", { class: "heard heard--no" }, "Say a few words: the bar should move when you speak.");
    let loudFrames = 0;
    let heardOnce = false;
    S.meter = new LevelMeter(stream, (level) => {
      meter.set(level);
      if (!heardOnce && level > 0.35 && ++loudFrames > 8) {
        heardOnce = true;
        heard.textContent = "We can hear you.";
        heard.classList.remove("heard--no");
        say("We can hear you.");
      }
    });
    const sampleBox = h("div", {});
    const sampleBtn = h("button", { type: "button", class: "btn btn--secondary" }, "Record a 5-second test");
    sampleBtn.addEventListener("click", async () => {
      sampleBtn.disabled = true;
      render(sampleBox, h("p", { class: "rec-indicator" }, h("span", { class: "rec-dot", "aria-hidden": "true" }), "Recording a test: say something…"));
      say("Recording a five second test.");
      try {
        const blob = await recordSample(stream, S.media.mimeType, 5);
        const url = URL.createObjectURL(blob);
        const audio = h("audio", { controls: true, preload: "none", src: url, "aria-label": "Your test recording" });
        render(sampleBox, h("p", {}, "Listen to your test. It stays on this device and is not sent to anyone."), audio);
        say("Test recorded. You can play it back.");
      } catch {
        render(sampleBox, h("p", { class: "form-error" }, "The test recording did not work in this browser."));
      } finally {
        sampleBtn.disabled = false;
      }
    });
    const cont = h("button", { type: "button", class: "btn" }, "Continue");
    cont.addEventListener("click", () => {
      if (!heardOnce && !cont.dataset.warned) {
        cont.dataset.warned = "1";
        render(heard, "We have not heard any sound yet. Check that your microphone is not muted, or select “Continue” again to go on.");
        heard.classList.add("form-error");
        heard.setAttribute("role", "alert");
        return;
      }
      guidelines();
    });
    render(area,
      h("div", { class: "notice notice--success" }, h("p", {}, hasVideo ? "Your microphone and camera are on." : "Your microphone is on.")),
      !hasVideo && useCamera.checked && cameraProblem
        ? h("p", { class: "muted small" }, cameraProblem === "denied"
          ? "The camera was not allowed, so you will answer with audio only. That is fine."
          : "No camera is available, so you will answer with audio only. That is fine.") : null,
      hasVideo ? previewEl(stream) : null,
      h("p", { class: "label", id: "meter-label" }, "Microphone level"),
      meter.el, heard,
      h("div", { class: "btn-row" }, sampleBtn),
      sampleBox,
      h("div", { class: "btn-row" }, cont));
  };

  start.addEventListener("click", run);
  useCamera.addEventListener("change", () => { if (S.media) run(); });
  show("Check your microphone",
    answered ? h("div", { class: "notice" }, h("p", {},
      `Welcome back. You have answered ${answered} of ${d.questions.length} questions; you will continue with question ${nextNumber}.`)) : null,
    h("h1", {}, "Check your microphone"),
    h("p", {}, "Your browser will ask for permission to use your microphone, and your camera if you leave it on. Speak as you would during the interview and watch the level bar."),
    h("div", { class: "check" }, useCamera,
      h("label", { for: "use-camera" }, "Use my camera (optional; the picture is never used to assess you)")),
    h("div", { class: "btn-row" }, start),
    area);
  if (S.media) working();
}

// ---------------------------------------------------------------- guidelines

function guidelines() {
  const d = S.data;
  const nextNumber = sorted().findIndex((q) => q.position === d.next_question) + 1;
  const fresh = nextNumber === 1 && !d.typed_answers;
  const go = h("button", { type: "button", class: "btn" },
    fresh ? "Try a practice question" : nextNumber > 1 ? `Continue with question ${nextNumber}` : "Start question 1");
  const unlockThen = (next) => () => { stage(); S.avatar.unlock(); next(); };
  go.addEventListener("click", unlockThen(() => (fresh ? practice() : askQuestion(sorted()[nextNumber - 1]))));
  const skip = fresh ? h("button", { type: "button", class: "btn btn--secondary" }, "Skip the practice") : null;
  if (skip) skip.addEventListener("click", unlockThen(() => askQuestion(sorted()[0])));
  const timing = d.typed_answers
    ? `For each question you have ${durationWords(d.think_seconds)} to think, then you type your answer (up to ${d.max_typed_answer_chars} characters) and send it. There is no time limit for typing.`
    : `For each question you have ${durationWords(d.think_seconds)} to think, then up to ${durationWords(d.answer_seconds)} to answer. Recording starts when the thinking time ends, or sooner if you choose. Select “Finish answer” when you are done; at the time limit the recording stops by itself.`;
  const retakes = d.typed_answers ? null : h("p", {}, d.retakes
    ? `After each answer you can listen to it, then keep it or record it again (${d.retakes === 1 ? "once" : `up to ${d.retakes} times`} per question).`
    : "Each answer is kept as you record it: there are no retakes for this role.");
  show("Before you start",
    h("h1", {}, "Before you start"),
    h("div", { class: "card" },
      h("ul", { class: "guidelines" },
        h("li", {}, h("strong", {}, "You are being assessed by an AI. "), "Make each answer complete and self-contained."),
        h("li", {}, "Give real examples from your experience: the situation, what you did yourself and why, and what happened."),
        h("li", {}, "Do not refer to your CV or to other answers."))),
    h("p", {}, "The interviewer is an AI avatar. It reads each question aloud, with captions on screen, and does not comment on your answers."),
    h("p", {}, timing),
    retakes,
    fresh ? h("p", {}, "First, a practice question to get used to it. Your practice answer is never sent or kept.") : null,
    h("div", { class: "btn-row" }, go, skip));
}

// ---------------------------------------------------------------- practice (never uploaded)

function practice() {
  const d = S.data;
  const phase = h("div", { class: "card phase" });
  const skip = h("button", { type: "button", class: "btn btn--secondary" }, "Start the interview");
  skip.addEventListener("click", () => { hush(); askQuestion(sorted()[0]); });
  show("Practice question",
    h("p", { class: "progress-label" }, "Practice question: not sent and not kept"),
    stage(),
    phase,
    h("div", { class: "btn-row" }, skip));
  const answerSeconds = Math.min(d.answer_seconds, 60);
  const begin = () => {
    clearStep();
    const recorder = new AnswerRecorder({ stream: S.media.stream, mimeType: S.media.mimeType, upload: async () => {} });
    const timer = h("p", { class: "timer", role: "timer", "aria-live": "off" });
    const meter = meterEl();
    const done = h("button", { type: "button", class: "btn btn--danger" }, "Finish practice answer");
    const stop = async () => {
      clearStep();
      done.disabled = true;
      await recorder.stop();
      S.avatar.setState("idle");
      const again = h("button", { type: "button", class: "btn btn--secondary" }, "Practise again");
      again.addEventListener("click", () => practice());
      const start = h("button", { type: "button", class: "btn" }, "Start the interview");
      start.addEventListener("click", () => askQuestion(sorted()[0]));
      skip.hidden = true;
      render(phase,
        h("h2", { tabindex: "-1" }, "That is how it works"),
        h("p", {}, "Listen to your practice answer if you like. It stays on this device and is deleted when you continue."),
        recorder.blob().size
          ? h("audio", { controls: true, preload: "none", src: URL.createObjectURL(recorder.blob()), "aria-label": "Your practice answer" })
          : h("p", { class: "muted" }, "The practice answer was too short to play back."),
        h("div", { class: "btn-row" }, start, again));
      phase.querySelector("h2").focus();
    };
    try { recorder.start(); } catch (err) {
      render(phase, errorNotice(`Recording could not start in this browser (${err.message}).`));
      return;
    }
    done.addEventListener("click", stop);
    listenWhileRecording(meter);
    render(phase,
      h("p", { class: "rec-indicator" }, h("span", { class: "rec-dot", "aria-hidden": "true" }), "Recording your practice answer"),
      h("p", { class: "timer-label" }, "Time left"), timer, meter.el,
      h("div", { class: "btn-row" }, done));
    done.focus();
    countdown(answerSeconds, (left) => { timer.textContent = clock(left); }, stop);
  };
  if (!S.media) { render(phase, h("p", {}, "The practice question needs your microphone.")); return; }
  const afterSpeech = thinkThenRecord(phase, Math.min(d.think_seconds, 15), begin,
    "The practice answer starts when this reaches zero.");
  const lines = S.introduced ? ["practice"] : ["intro", "practice"];
  S.introduced = true;
  speak(...lines).then(afterSpeech);
}

// ---------------------------------------------------------------- one question

function progressHead(question) {
  const total = S.data.questions.length;
  const n = numberOf(question.question_id);
  const fill = h("div", { class: "bar__fill" });
  fill.style.width = `${Math.round(((n - 1) / total) * 100)}%`;
  return h("div", {},
    h("p", { class: "progress-label" }, `Question ${n} of ${total}`),
    h("div", { class: "bar progress-bar", role: "progressbar", "aria-label": "Interview progress",
      "aria-valuemin": "0", "aria-valuemax": String(total), "aria-valuenow": String(n - 1) }, fill),
    stage(),
    h("h1", { class: "question-text" }, question.text));
}

function countdown(seconds, onTick, onDone) {
  const end = performance.now() + seconds * 1000;
  let last = null;
  const tick = () => {
    const left = Math.max(0, Math.ceil((end - performance.now()) / 1000));
    if (left !== last) { last = left; onTick(left); }
    if (left <= 0) { window.clearInterval(id); onDone(); }
  };
  const id = window.setInterval(tick, 200);
  S.timers.push(id);
  tick();
  return () => window.clearInterval(id);
}

/** The mic level drives the meter and the avatar's attentive nod while the candidate answers. */
function listenWhileRecording(meter) {
  S.avatar.setState("listening");
  S.meter = new LevelMeter(S.media.stream, (level) => { meter.set(level); S.avatar.listen(level); });
}

/**
 * Think time: a countdown with a "start now" button. `begin` runs once, at zero or on the
 * button. Returns the function that starts the countdown: call it when the avatar has spoken.
 */
function thinkThenRecord(phase, seconds, begin, hint, startLabel = "Start recording now") {
  let started = false;
  const go = () => {
    if (started) return;
    started = true;
    hush();
    clearStep();
    begin();
  };
  const timer = h("p", { class: "timer", role: "timer", "aria-live": "off" }, clock(seconds));
  const label = h("p", { class: "timer-label" }, "The interviewer is speaking…");
  const startNow = h("button", { type: "button", class: "btn" }, startLabel);
  startNow.addEventListener("click", go);
  render(phase, label, timer, h("p", { class: "muted" }, hint), h("div", { class: "btn-row" }, startNow));
  return () => {
    if (started || !phase.isConnected) return;
    if (seconds <= 0) { go(); return; }
    label.textContent = "Time to think";
    say(`You have ${durationWords(seconds)} to think.`);
    countdown(seconds, (left) => { timer.textContent = clock(left); }, go);
  };
}

const RESTARTABLE = ["receiving", "no_speech", "failed"];

/**
 * Get the server ready for a new take of this question. Clears what an earlier take left: the
 * chunks of a cut-off upload (never a retake), or a recording with no speech or unreadable
 * media. Resolves to "fresh", or "recorded" when a whole take waits to be kept or recorded
 * again (the page was closed at that choice). Throws ApiError.
 */
async function freshTake(question) {
  const qid = encodeURIComponent(question.question_id);
  const out = await get(`/candidate/answers/${qid}`);
  question.retakes_left = out.retakes_left;
  if (out.state === "not_started") return "fresh";
  if (out.state === "receiving" && out.recorded) return "recorded";
  if (out.state === "receiving" && !(out.received_chunks || []).length) return "fresh";
  if (!RESTARTABLE.includes(out.state)) {
    throw new ApiError(409, "already_answered", "This question has already been answered.");
  }
  const restarted = await post(`/candidate/answers/${qid}/restart`);
  question.answer_state = restarted.state;
  S.noSpeech.delete(question.question_id);
  return "fresh";
}

async function askQuestion(question, { again = false } = {}) {
  if (!question) { finish(); return; }
  const d = S.data;
  if (!S.media && !d.typed_answers) { deviceCheck(); return; }
  const phase = h("div", { class: "card phase" });
  show(`Question ${numberOf(question.question_id)}`, progressHead(question), phase);
  render(phase, h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), " Getting ready…"));
  let take;
  try {
    take = again ? "fresh" : await freshTake(question);
  } catch (err) {
    if (err.status === 401 || err.status === 410) { linkProblem(err); return; }
    const retry = err.transient
      ? h("button", { type: "button", class: "btn", onclick: () => askQuestion(question) }, "Try again")
      : h("button", { type: "button", class: "btn", onclick: () => nextStep() }, "Continue");
    render(phase, errorNotice(err.code === "already_answered"
      ? "Your answer to this question is already saved, so it is kept as it is." : err.message, retry));
    retry.focus();
    return;
  }
  if (take === "recorded") { reviewTake(question, null, phase); return; }

  const n = numberOf(question.question_id);
  const begin = () => (d.typed_answers ? typeAnswer(question, phase) : recordAnswer(question, phase));
  const afterSpeech = thinkThenRecord(phase, d.think_seconds, begin,
    d.typed_answers ? "You can start typing when this reaches zero, or sooner." : "Recording starts by itself when this reaches zero.",
    d.typed_answers ? "Start typing now" : "Start recording now");
  say(`Question ${n} of ${d.questions.length}.`);
  const lines = [];
  if (!S.introduced) { lines.push("intro"); S.introduced = true; }
  else if (!again && S.spokeQuestion) lines.push(n === d.questions.length ? "last" : "next");
  lines.push(`q:${question.question_id}`);
  S.spokeQuestion = true;
  await speak(...lines);
  afterSpeech();
}

function recordAnswer(question, phase) {
  const d = S.data;
  const qid = question.question_id;
  const timer = h("p", { class: "timer", role: "timer", "aria-live": "off" });
  const meter = meterEl();
  const finishBtn = h("button", { type: "button", class: "btn btn--danger" }, "Finish answer");
  const upFill = h("div", { class: "bar__fill" });
  const upText = h("p", {}, "Your answer is uploaded while you speak.");
  const upload = h("div", { class: "upload" },
    h("div", { class: "bar bar--success", role: "progressbar", "aria-label": "Upload progress", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, upFill),
    upText);
  let stopping = false;
  let fatal = null;

  const recorder = new AnswerRecorder({
    stream: S.media.stream,
    mimeType: S.media.mimeType,
    upload: (index, blob, sha, type, final) => put(`/candidate/answers/${encodeURIComponent(qid)}/chunks/${index}`, blob,
      { headers: { "Content-Type": type, "X-Chunk-SHA256": sha, ...(final ? { "X-Final-Chunk": "true" } : {}) } }),
    onProgress: ({ sentBytes, recordedBytes, sentChunks, chunkCount }) => {
      const pct = recordedBytes ? Math.round((sentBytes / recordedBytes) * 100) : 0;
      upFill.style.width = `${pct}%`;
      upload.firstChild.setAttribute("aria-valuenow", String(pct));
      upText.textContent = `Uploaded ${sentChunks} of ${chunkCount} part${chunkCount === 1 ? "" : "s"}.`;
    },
    onRetry: ({ delayMs, error }) => {
      upText.textContent = `${error.status === 0 ? "Connection lost." : "The upload was interrupted."} Trying again in ${Math.ceil(delayMs / 1000)} s… Keep this page open.`;
    },
    onFatal: (err) => {
      fatal = err;
      stop();
    },
  });

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearStep();
    finishBtn.disabled = true;
    S.avatar.setState("idle");
    await recorder.stop();
    uploadRest(question, recorder, phase, upload, fatal);
  };

  try {
    recorder.start();
  } catch (err) {
    render(phase, errorNotice(`Recording could not start in this browser (${err.message}).`,
      h("button", { type: "button", class: "btn", onclick: () => deviceCheck() }, "Check your microphone again")));
    return;
  }
  S.busy = true;
  finishBtn.addEventListener("click", stop);
  listenWhileRecording(meter);
  render(phase,
    h("div", { class: "recording-layout" },
      h("p", { class: "rec-indicator" }, h("span", { class: "rec-dot", "aria-hidden": "true" }), "Recording"),
      S.media.hasVideo ? previewEl(S.media.stream, true) : null,
      h("p", { class: "timer-label" }, "Time left"),
      timer,
      meter.el,
      h("div", { class: "btn-row" }, finishBtn)),
    upload);
  finishBtn.focus();
  say(`Recording. You have ${durationWords(d.answer_seconds)}.`);
  countdown(d.answer_seconds, (left) => {
    timer.textContent = clock(left);
    timer.classList.toggle("timer--low", left <= 30);
    if (left === 30 && d.answer_seconds > 45) say("30 seconds left.");
    if (left === 10) say("10 seconds left.");
  }, () => {
    say("Time is up. Your answer is being saved.");
    stop();
  });
}

function fail(question, phase, err, retry) {
  const qid = question.question_id;
  S.busy = false;
  if (err.status === 401 || err.status === 410) { linkProblem(err); return; }
  const actions = [];
  if (err.transient) {
    actions.push(h("button", { type: "button", class: "btn", onclick: retry }, "Try again"));
  } else if (["already_answered", "interview_not_open"].includes(err.code)) {
    S.noSpeech.delete(qid);
    actions.push(h("button", { type: "button", class: "btn", onclick: () => nextStep() }, "Continue"));
  } else {
    actions.push(h("button", { type: "button", class: "btn", onclick: () => nextStep() }, "Continue"));
    actions.push(h("p", { class: "small" }, "If this keeps happening, contact the recruiter who invited you."));
  }
  render(phase, errorNotice(err.message, ...actions));
  phase.querySelector("button")?.focus();
}

/** After the recording stops: send what is left (the upload bar keeps moving), then review. */
async function uploadRest(question, recorder, phase, upload, fatalAtStop) {
  if (fatalAtStop) { fail(question, phase, fatalAtStop, () => uploadRest(question, recorder, phase, upload, null)); return; }
  render(phase, h("p", { "aria-live": "polite" }, h("span", { class: "spinner", "aria-hidden": "true" }), " Uploading the end of your answer…"), upload);
  try {
    await recorder.flush();
  } catch (err) {
    fail(question, phase, err, () => uploadRest(question, recorder, phase, upload, null));
    return;
  }
  const { chunkCount } = await recorder.summary();
  if (!chunkCount) {
    S.busy = false;
    render(phase, errorNotice("Nothing was recorded. Check your microphone and try again.",
      h("button", { type: "button", class: "btn", onclick: () => askQuestion(question) }, "Record again")));
    return;
  }
  reviewTake(question, recorder, phase);
}

/**
 * Keep the take or record it again, while retakes are left; with none left it is kept at once.
 * `recorder` is null when the page was reopened at this choice: no playback then.
 */
function reviewTake(question, recorder, phase) {
  const n = numberOf(question.question_id);
  const left = question.retakes_left || 0;
  if (left <= 0) { keepTake(question, recorder, phase); return; }
  S.busy = false;
  const keep = h("button", { type: "button", class: "btn" }, "Keep this answer");
  const again = h("button", { type: "button", class: "btn btn--secondary" },
    `Record again (${left} ${left === 1 ? "retake" : "retakes"} left)`);
  const error = h("p", { class: "form-error", role: "alert" });
  keep.addEventListener("click", () => keepTake(question, recorder, phase));
  again.addEventListener("click", async () => {
    keep.disabled = again.disabled = true;
    try {
      const out = await post(`/candidate/answers/${encodeURIComponent(question.question_id)}/restart`);
      question.retakes_left = out.retakes_left;
      askQuestion(question, { again: true });
    } catch (err) {
      if (err.code === "no_retakes_left") { question.retakes_left = 0; keepTake(question, recorder, phase); return; }
      error.textContent = err.message;
      keep.disabled = again.disabled = false;
    }
  });
  render(phase,
    h("h2", { tabindex: "-1" }, `Your answer to question ${n} is recorded`),
    recorder
      ? [h("p", {}, "Listen to it if you like, then keep it or record it again."),
        h("audio", { controls: true, preload: "none", src: URL.createObjectURL(recorder.blob()), "aria-label": `Your answer to question ${n}` })]
      : h("p", {}, "You recorded this answer before the page closed. Keep it, or record it again."),
    error,
    h("div", { class: "btn-row" }, keep, again));
  phase.querySelector("h2").focus();
  say(`Your answer to question ${n} is recorded. Keep it, or record it again.`);
}

/** "Keep": the server assembles and checks the take and hands it to the worker. */
async function keepTake(question, recorder, phase) {
  const qid = question.question_id;
  render(phase, h("p", { "aria-live": "polite" }, h("span", { class: "spinner", "aria-hidden": "true" }), " Saving your answer…"));
  performance.mark(`keep:${qid}`);
  const retry = () => keepTake(question, recorder, phase);
  try {
    let summary = recorder ? await recorder.summary() : { chunkCount: null, sha256: null };
    let out;
    for (let attempt = 1; ; attempt += 1) {
      try {
        out = await post(`/candidate/answers/${encodeURIComponent(qid)}/complete`,
          { chunk_count: summary.chunkCount, sha256: summary.sha256 });
        break;
      } catch (err) {
        if (err.code === "chunks_missing" && recorder && attempt < 4) {
          await recorder.resend(err.details.missing || []);
          summary = await recorder.summary();
          continue;
        }
        if (err.transient && attempt < 6) { await sleep(Math.min(15000, 1000 * 2 ** attempt)); continue; }
        throw err;
      }
    }
    performance.mark(`stored:${qid}`);
    S.busy = false;
    const q = S.data.questions.find((x) => x.question_id === qid);
    if (q) q.answer_state = out.state;
    S.noSpeech.delete(qid);
    answerSaved(question, phase);
  } catch (err) {
    fail(question, phase, err, retry);
  }
}

/** Typed answers (an accommodation): a text box with a character count, sent to scoring. */
function typeAnswer(question, phase) {
  const d = S.data;
  const n = numberOf(question.question_id);
  const id = `typed-${n}`;
  const box = h("textarea", { id, rows: "10", maxlength: String(d.max_typed_answer_chars), class: "typed-answer" });
  const count = h("p", { class: "muted small", id: `${id}-count`, "aria-live": "off" }, `0 of ${d.max_typed_answer_chars} characters`);
  box.setAttribute("aria-describedby", count.id);
  const error = h("p", { class: "form-error", role: "alert" });
  const send = h("button", { type: "submit", class: "btn" }, "Send answer");
  box.addEventListener("input", () => { count.textContent = `${box.value.length} of ${d.max_typed_answer_chars} characters`; });
  const form = h("form", { novalidate: true },
    h("label", { for: id, class: "label" }, "Your answer"), box, count, error, h("div", { class: "btn-row" }, send));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!box.value.trim()) { error.textContent = "Type your answer first."; box.focus(); return; }
    send.disabled = true;
    error.textContent = "";
    try {
      const out = await post(`/candidate/answers/${encodeURIComponent(question.question_id)}/text`, { text: box.value });
      question.answer_state = out.state;
      S.busy = false;
      answerSaved(question, phase, { typed: true });
    } catch (err) {
      send.disabled = false;
      if (err.status === 401 || err.status === 410) { linkProblem(err); return; }
      error.textContent = err.message;
    }
  });
  S.busy = true;
  render(phase, form);
  box.focus();
}

function answerSaved(question, phase, { typed = false } = {}) {
  const qid = question.question_id;
  const n = numberOf(qid);
  const isLast = !S.data.questions.some((q) => q.question_id !== qid && (!q.answer_state || q.answer_state === "receiving"));
  const check = typed ? null : h("div", { class: "check-status", "aria-live": "polite" }, h("span", { class: "spinner", "aria-hidden": "true" }), " Checking that we could hear you…");
  const next = h("button", { type: "button", class: "btn" }, isLast ? "Finish the interview" : "Next question");
  next.addEventListener("click", () => nextStep());
  render(phase,
    h("div", { class: "done-mark", "aria-hidden": "true" }, "✓"),
    h("h2", { tabindex: "-1" }, `Your answer to question ${n} is saved.`),
    check,
    h("div", { class: "btn-row" }, next));
  phase.querySelector("h2").focus();
  say(`Your answer to question ${n} is saved.`);
  if (typed) return;
  watchAnswer(qid, { onUpdate: (state, out) => {
    if (!check.isConnected) return false;
    if (state === "transcribed") {
      render(check, "We could hear you clearly.");
    } else if (state === "no_speech") {
      render(check, noSpeechNotice(question, out));
    } else if (state === "failed") {
      render(check, failedNotice(question, out));
    } else if (state === "waited") {
      render(check, "Your answer is being processed. You can carry on.");
    }
    return true;
  } });
}

function noSpeechNotice(question, out) {
  const n = numberOf(question.question_id);
  return h("div", { class: "notice notice--warning nospeech", role: "alert" },
    h("p", {}, h("strong", {}, `We couldn't hear you in your answer to question ${n}.`)),
    out && out.failure_reason ? h("p", {}, out.failure_reason) : null,
    h("p", {}, "Check that your microphone is not muted and that you are close to it, then record the answer again. This does not count as a retake."),
    h("div", { class: "btn-row" },
      h("button", { type: "button", class: "btn btn--small", onclick: () => { setBanner(); askQuestion(question); } }, `Record question ${n} again`)));
}

function failedNotice(question, out) {
  const n = numberOf(question.question_id);
  return h("div", { class: "notice notice--warning", role: "alert" },
    h("p", {}, h("strong", {}, `Your answer to question ${n} could not be processed${out && out.failure_reason ? `: ${out.failure_reason}` : "."}`)),
    h("p", {}, "You can record the answer again; this does not count as a retake. If you carry on instead, the recruiting team will see that it could not be processed."),
    h("div", { class: "btn-row" },
      h("button", { type: "button", class: "btn btn--small", onclick: () => { setBanner(); askQuestion(question); } }, `Record question ${n} again`)));
}

/**
 * Poll an answer's state until processing has an outcome: often within seconds, so a silent
 * recording is reported while the candidate is still here. Keeps watching in the background
 * (and raises a banner) if they move on.
 */
async function watchAnswer(qid, { onUpdate }) {
  const started = performance.now();
  let toldWaited = false;
  while (S.watching && performance.now() - started < 180000) {
    await sleep(performance.now() - started < 30000 ? 2000 : 5000);
    let out;
    try {
      out = await get(`/candidate/answers/${encodeURIComponent(qid)}`);
    } catch (err) {
      if (err.transient) continue;
      return;
    }
    if (!S.watching) return;
    const q = S.data.questions.find((x) => x.question_id === qid);
    if (q) q.answer_state = out.state;
    if (["transcribed", "no_speech", "failed"].includes(out.state)) {
      if (out.state === "no_speech") S.noSpeech.add(qid);
      const shown = onUpdate(out.state, out);
      if (out.state === "no_speech" && !shown) {
        // The candidate has moved on: tell them in a banner once they are not recording.
        while (S.busy) await sleep(1000);
        const question = S.data.questions.find((x) => x.question_id === qid);
        if (question && S.noSpeech.has(qid)) setBanner(noSpeechNotice(question, out));
      }
      return;
    }
    if (!toldWaited && performance.now() - started > 20000) { toldWaited = true; onUpdate("waited", out); }
  }
}

async function nextStep() {
  setBanner();
  try {
    S.data = await get("/candidate/interview");
  } catch (err) {
    if (err.status === 401 || err.status === 410) { linkProblem(err); return; }
    render(main, errorNotice(err.message, h("button", { type: "button", class: "btn", onclick: nextStep }, "Try again")));
    return;
  }
  if (S.data.next_question === null) { finish(); return; }
  askQuestion(sorted().find((q) => q.position === S.data.next_question));
}

// ---------------------------------------------------------------- the end

async function finish() {
  clearStep();
  render(main, h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), " Sending your interview…"));
  try {
    S.data = await post("/candidate/finish");
  } catch (err) {
    if (err.status === 401 || err.status === 410) { linkProblem(err); return; }
    if (err.code === "questions_unanswered") {
      show("Almost done", h("h1", {}, "Some questions are not answered yet"),
        errorNotice(err.message, h("button", { type: "button", class: "btn", onclick: nextStep }, "Go to the next question")));
      return;
    }
    show("Something went wrong", h("h1", {}, "We could not finish your interview"),
      errorNotice(err.message, h("button", { type: "button", class: "btn", onclick: finish }, "Try again")));
    return;
  }
  thanks();
}

function thanks() {
  const d = S.data;
  if (S.media) { stopStream(S.media.stream); S.media = null; }
  S.busy = false;
  S.watching = false;
  setBanner();
  const spoke = Boolean(S.avatar);
  show("Thank you",
    spoke ? stage() : null,
    h("div", { class: "done-mark", "aria-hidden": "true" }, "✓"),
    h("h1", {}, "Thank you, your interview is complete"),
    h("p", { class: "lead" }, `Your answers have been sent to ${d.organisation} for the ${d.role_title} role.`),
    h("div", { class: "card end" },
      h("h2", {}, "What happens next"),
      h("ol", {},
        h("li", {}, "Your answers are transcribed, and their content is assessed against the competencies for this role."),
        h("li", {}, `A person on the recruiting team at ${d.organisation} reviews your interview. Nothing is decided automatically.`),
        h("li", {}, `${d.organisation} will contact you about the next step.`)),
      h("p", { class: "muted" }, "You can close this page now, and open this link again at any time for what follows.")),
    d.feedback_offered ? feedbackSection() : null,
    selfIdentification(),
    rightsSection());
  if (spoke) speak("finish");
}

/** The role's feedback report: strengths the answers showed, some days later; never a score. */
function feedbackSection() {
  const box = h("div", { "aria-live": "polite" }, h("p", { class: "muted" }, "Loading your feedback…"));
  get("/candidate/feedback").then((out) => {
    if (out.strengths === null) {
      const when = new Date(out.available_at).toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric" });
      render(box, h("p", {}, `A short report on the strengths your answers showed will be here from ${when}. Open this link again then.`));
    } else if (!out.strengths.length) {
      render(box, h("p", {}, "We could not name a particular strength from these answers alone. This says nothing about you as a person, and people at the organisation still review every answer."));
    } else {
      render(box, h("p", {}, "Strengths your answers showed:"), h("ul", { class: "strengths" }, out.strengths.map((st) => h("li", {},
        h("strong", {}, st.competency), st.description ? `: ${st.description}` : "",
        st.example ? h("blockquote", {}, `“${st.example}”`) : null))));
    }
  }).catch((err) => render(box, h("p", { class: "muted" }, err.message)));
  return h("section", { class: "card", "aria-labelledby": "feedback-h" }, h("h2", { id: "feedback-h" }, "Your feedback"), box);
}

const SELF_ID = {
  sex: ["Sex", [["female", "Female"], ["male", "Male"]]],
  race_ethnicity: ["Race or ethnicity", [
    ["hispanic_or_latino", "Hispanic or Latino"], ["white", "White"],
    ["black_or_african_american", "Black or African American"],
    ["native_hawaiian_or_pacific_islander", "Native Hawaiian or Pacific Islander"], ["asian", "Asian"],
    ["native_american_or_alaska_native", "Native American or Alaska Native"], ["two_or_more_races", "Two or more races"]]],
  age_band: ["Age", [["under_25", "Under 25"], ["25_39", "25 to 39"], ["40_54", "40 to 54"], ["55_plus", "55 or over"]]],
};

/** Optional questions after the interview, for fairness monitoring only. */
function selfIdentification() {
  const selects = Object.entries(SELF_ID).map(([name, [label, options]]) => {
    const select = h("select", { id: `self-${name}`, name },
      h("option", { value: "" }, "Choose (optional)"),
      options.map(([value, text]) => h("option", { value }, text)),
      h("option", { value: "prefer_not_to_say" }, "Prefer not to say"));
    return [name, select, h("div", { class: "field" }, h("label", { for: select.id }, label), select)];
  });
  const status = h("p", { "aria-live": "polite" });
  const send = h("button", { type: "submit", class: "btn btn--secondary" }, "Send my answers");
  const form = h("form", { novalidate: true }, selects.map(([, , el]) => el), status, h("div", { class: "btn-row" }, send));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(selects.map(([name, select]) => [name, select.value || null]));
    send.disabled = true;
    try {
      await post("/candidate/self-identification", body);
      render(form, h("p", { class: "notice notice--success" }, "Thank you. Your answers are stored apart from your interview."));
    } catch (err) {
      status.textContent = err.message;
      send.disabled = false;
    }
  });
  return h("section", { class: "card", "aria-labelledby": "self-h" },
    h("h2", { id: "self-h" }, "Optional: help us check that the assessment is fair"),
    h("p", {}, "Answering is voluntary and changes nothing about your application. Your answers are stored apart from your interview, "
      + "are never seen by the AI or by the people who review you, and are used only in anonymous statistics that check no group is disadvantaged."),
    form);
}

boot();
