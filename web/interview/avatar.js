// The interviewer: a drawn head and shoulders, labelled as an AI, that says each line with a
// caption, moves its mouth with the audio it plays and nods while the candidate talks. Its face
// never reacts to what the candidate says: the expression is the same for every answer.
// Self-contained, feature-detected (Chromium, Firefox, Safari), CSP-safe: no inline styles.

const SVG_NS = "http://www.w3.org/2000/svg";
const STATES = new Set(["idle", "speaking", "listening", "thinking"]);
const REDUCED_QUERY = "(prefers-reduced-motion: reduce)";

const NOD_LEVEL = 0.35;        // the page's mic scale (-60..-6 dBFS): about -41 dBFS, above room noise
const NOD_AFTER_MS = 600;      // voice held this long before a nod starts
const NOD_STOP_MS = 600;       // and quiet this long before it stops
const NOD_PERIOD_MS = 1500;
const LEVEL_STALE_MS = 400;    // no listen() call for this long counts as silence
const STALL_MS = 8000;         // audio that makes no progress this long has failed
const WAKE_MS = 300;           // how long say() waits for a suspended AudioContext to resume
const REDUCED_OPEN = 0.3;      // the one still "speaking" mouth shape in reduced motion
const PIVOT = [80, 116];       // where the neck meets the shoulders, in viewBox units

let instances = 0;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

function html(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") el.className = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  el.append(...children);
  return el;
}

const clamp01 = (v) => Math.min(1, Math.max(0, Number(v) || 0));
const now = () => (window.performance ? performance.now() : Date.now());

/** How long a line takes to read: about 200 words a minute, 2 to 20 seconds. */
export function readingMs(text) {
  const words = String(text || "").trim().split(/\s+/).filter(Boolean).length;
  return Math.min(20000, Math.max(2000, 1200 + words * 300));
}

/** The mouth: a gentle, constant half-smile line whose lower lip drops as it opens (0..1). */
function mouthPath(open) {
  const half = 9 - open * 2.2;
  const y = 95;
  const upper = y + 3 - open * 4.5;
  const lower = y + 3.4 + open * 15;
  return `M${80 - half} ${y} Q80 ${upper} ${80 + half} ${y} Q80 ${lower} ${80 - half} ${y} Z`;
}

function drawFigure(uid, name) {
  const clip = `avatar-clip-${uid}`;
  const mouth = svg("path", { class: "avatar__mouth", d: mouthPath(0), "data-open": "0",
    fill: "#7a3530", stroke: "#a4594b", "stroke-width": 1.8, "stroke-linejoin": "round" });
  const eyes = svg("g", { class: "avatar__eyes" },
    ...[68, 92].map((cx) => svg("g", {},
      svg("ellipse", { cx, cy: 74, rx: 3.6, ry: 4.2, fill: "#1f2a36" }),
      svg("circle", { cx: cx + 1.2, cy: 72.6, r: 1.1, fill: "#ffffff" }))));
  const brows = svg("g", { fill: "none", stroke: "#3b2b22", "stroke-width": 2.6, "stroke-linecap": "round" },
    svg("path", { d: "M61 64 Q67.5 60.5 74 63" }),
    svg("path", { d: "M86 63 Q92.5 60.5 99 64" }));
  const features = svg("g", {},
    svg("ellipse", { cx: 62, cy: 86, rx: 6, ry: 3.6, fill: "#e79a84", opacity: 0.28 }),
    svg("ellipse", { cx: 98, cy: 86, rx: 6, ry: 3.6, fill: "#e79a84", opacity: 0.28 }),
    brows, eyes,
    svg("path", { d: "M80 76 Q77.5 85 79.5 87 Q81.5 88 84 86.5", fill: "none", stroke: "#b57a58", "stroke-width": 1.7, "stroke-linecap": "round" }),
    mouth);
  const neck = svg("g", {},
    svg("path", { d: "M68 98 L92 98 L93 122 L67 122 Z", fill: "#d6a07b" }),
    svg("path", { d: "M68 104 Q80 114 92 104 L92 98 L68 98 Z", fill: "#c38a66" }));
  const head = svg("g", { class: "avatar__head" },
    svg("ellipse", { cx: 48.5, cy: 79, rx: 5.5, ry: 8.5, fill: "#dca885" }),
    svg("ellipse", { cx: 111.5, cy: 79, rx: 5.5, ry: 8.5, fill: "#dca885" }),
    svg("ellipse", { cx: 80, cy: 76, rx: 31, ry: 36, fill: "#ebbd98" }),
    svg("path", { d: "M48.4 82 C42 52 56 31 81 31 C106 31 119 50 111.6 82 C110 70 107.5 62 104 57 C96 51 86 49 76 52.5 C68 55.5 60 56 54.5 55 C51.5 62 49.5 71 48.4 82 Z", fill: "#3b2b22" }),
    features);
  const body = svg("g", {},
    svg("path", { d: "M6 162 C8 135 28 123 60 117 L100 117 C132 123 152 135 154 162 Z", fill: "#2b4c6b" }),
    svg("path", { d: "M65 117 L80 144 L95 117 Z", fill: "#f3f5f8" }),
    svg("path", { d: "M67 115 L80 128 L73 135 L63 119 Z M93 115 L80 128 L87 135 L97 119 Z", fill: "#ffffff" }),
    svg("path", { d: "M59 117 L80 148 L68 123 Z M101 117 L80 148 L92 123 Z", fill: "#203b55" }));
  const root = svg("svg", { class: "avatar__svg", viewBox: "0 0 160 160", role: "img", "aria-label": name, focusable: "false" },
    svg("defs", {}, svg("clipPath", { id: clip }, svg("circle", { cx: 80, cy: 80, r: 78 }))),
    svg("circle", { cx: 80, cy: 80, r: 78, fill: "#dde8f1" }),
    svg("g", { "clip-path": `url(#${clip})` },
      svg("g", { transform: "translate(-9.6 -8.5) scale(1.12)" }, neck, body, head)),
    svg("circle", { cx: 80, cy: 80, r: 77.25, fill: "none", stroke: "#b9cbdb", "stroke-width": 1.5 }));
  return { root, head, features, eyes, mouth };
}

function waveIcon() {
  return svg("svg", { class: "avatar__wave", viewBox: "0 0 20 16", "aria-hidden": "true", focusable: "false" },
    ...[[1, 6, 4], [5, 3, 10], [9, 0, 16], [13, 3, 10], [17, 6, 4]].map(([x, y, height]) =>
      svg("rect", { x, y, width: 2.4, height, rx: 1.2, fill: "currentColor" })));
}

/** A short silent WAV, played inside a user gesture so the audio element may play later (WebKit). */
function silentWavUrl() {
  const samples = 400;
  const view = new DataView(new ArrayBuffer(44 + samples * 2));
  const text = (offset, s) => { for (let i = 0; i < s.length; i += 1) view.setUint8(offset + i, s.charCodeAt(i)); };
  text(0, "RIFF"); view.setUint32(4, 36 + samples * 2, true); text(8, "WAVEfmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, 8000, true); view.setUint32(28, 16000, true); view.setUint16(32, 2, true);
  view.setUint16(34, 16, true); text(36, "data"); view.setUint32(40, samples * 2, true);
  return URL.createObjectURL(new Blob([view.buffer], { type: "audio/wav" }));
}

export class Avatar {
  constructor(container, { label = "AI interviewer" } = {}) {
    instances += 1;
    this._fig = drawFigure(instances, `Parley's ${label}`);
    this._caption = html("p", { class: "avatar__caption", "aria-live": "polite", "aria-atomic": "true", "data-empty": true });
    this._play = html("button", { type: "button", class: "btn btn--secondary avatar__play", hidden: true },
      html("span", { class: "avatar__play-icon", "aria-hidden": "true" }, "\u25B6"), "Play",
      html("span", { class: "visually-hidden" }, " what the interviewer said"));
    this._play.addEventListener("click", () => this._onPlayClick());
    this.root = html("div", { class: "avatar", "data-state": "idle" },
      html("div", { class: "avatar__figure" }, this._fig.root, waveIcon(),
        html("span", { class: "avatar__badge", "aria-hidden": "true" }, label)),
      html("div", { class: "avatar__talk" }, this._caption, this._play));
    container.append(this.root);

    this._state = "idle";
    this._line = null;         // the line being said: {text, url, resolve, done, timers, audio...}
    this._offer = null;        // a line whose audio the browser refused to autoplay
    this._audio = null;        // the reusable audio element (unlocked once in a gesture)
    this._ctx = null;
    this._source = null;
    this._analyser = null;
    this._buffer = null;
    this._silentUrl = null;
    this._level = 0;
    this._levelAt = -Infinity;
    this._anim = { open: 0, env: 0, above: 0, below: 0, nodding: false, nod: 0, nodAt: 0, tilt: 0, gaze: 0,
      blinkAt: now() + 1500, blinkStart: -1, last: now() };
    this._frame = 0;
    this._tick = this._tick.bind(this);

    this._mql = window.matchMedia ? window.matchMedia(REDUCED_QUERY) : null;
    this._onMotion = () => this._setReduced(Boolean(this._mql && this._mql.matches));
    if (this._mql) {
      if (this._mql.addEventListener) this._mql.addEventListener("change", this._onMotion);
      else if (this._mql.addListener) this._mql.addListener(this._onMotion);
    }
    this._reduced = null;
    this._onMotion();
  }

  /** Say one line; resolves when it is done (ended, failed, skipped or stopped), never rejects. */
  async say(text, audioUrl) {
    this.stop();
    if (this._destroyed) return;
    const line = { text: String(text ?? ""), url: audioUrl || null, done: false, timers: [], started: now() };
    const finished = new Promise((resolve) => { line.resolve = resolve; });
    this._line = line;
    this._showCaption(line.text);
    this.setState("speaking");
    if (!line.url) {
      this._readThenFinish(line);
    } else {
      const waking = this._wakeContext();
      if (waking) await waking;
      if (this._line === line && !line.done) this._startAudio(line);
    }
    return finished;
  }

  /** Stop the line being said now; its say() resolves. */
  stop() {
    this._hideOffer();
    if (this._line) this._finish(this._line);
  }

  /** The candidate's microphone level, 0..1; call often (every frame) while they answer. */
  listen(level) {
    this._level = clamp01(level);
    this._levelAt = now();
  }

  setState(state) {
    if (!STATES.has(state) || this._destroyed) return;
    this._state = state;
    this.root.dataset.state = state;
    if (state === "speaking") this._setNodding(false);
    this._paintStill();
  }

  /** Call inside a user gesture (a click): creates or resumes audio so later lines can play. */
  unlock() {
    this._resumeContext();
    const ctx = this._ctx;
    if (ctx) {
      try {  // old iOS unlocks Web Audio only once a sound starts inside the gesture
        const tap = ctx.createBufferSource();
        tap.buffer = ctx.createBuffer(1, 1, 22050);
        tap.connect(ctx.destination);
        tap.start(0);
      } catch { /* not needed elsewhere */ }
    }
    const audio = this._element();
    if (!this._line || !this._line.audio) {
      if (!this._silentUrl) this._silentUrl = silentWavUrl();
      audio.src = this._silentUrl;
      const played = audio.play();
      if (played && played.catch) played.catch(() => {});
    }
  }

  destroy() {
    if (this._destroyed) return;
    this.stop();
    this._destroyed = true;
    window.cancelAnimationFrame(this._frame);
    if (this._mql) {
      if (this._mql.removeEventListener) this._mql.removeEventListener("change", this._onMotion);
      else if (this._mql.removeListener) this._mql.removeListener(this._onMotion);
    }
    if (this._audio) { this._audio.removeAttribute("src"); this._audio.load(); }
    if (this._ctx && this._ctx.close) Promise.resolve(this._ctx.close()).catch(() => {});
    if (this._silentUrl) URL.revokeObjectURL(this._silentUrl);
    this.root.remove();
  }

  // ----- lines -----

  _showCaption(text) {
    const caption = this._caption;
    caption.toggleAttribute("data-empty", !text);
    if (caption.textContent === text && text) {
      // The same words again: clear first so a screen reader reads them again.
      caption.textContent = "";
      window.setTimeout(() => { if (this._line && this._line.text === text) caption.textContent = text; }, 30);
    } else {
      caption.textContent = text;
    }
  }

  _finish(line) {
    if (line.done) return;
    line.done = true;
    line.timers.forEach((t) => window.clearTimeout(t));
    window.clearTimeout(line.stall);
    this._detach(line);
    this.root.classList.remove("avatar--audible");
    if (this._line === line) {
      this._line = null;
      if (this._state === "speaking") this.setState(line.returnTo || "idle");
    }
    this._paintStill();
    line.resolve();
  }

  /** No audio to hear (none given, refused or failed): finish after the caption's reading time. */
  _readThenFinish(line) {
    const left = Math.max(0, readingMs(line.text) - (now() - line.started));
    line.timers.push(window.setTimeout(() => this._finish(line), left));
  }

  _detach(line) {
    if (!line.audio) return;
    line.audio.removeEventListener("ended", line.onEnd);
    line.audio.removeEventListener("error", line.onError);
    line.audio.removeEventListener("timeupdate", line.onProgress);
    line.audio.pause();
  }

  _startAudio(line) {
    this._detach(line);
    const { audio, analysed } = this._player();
    line.audio = audio;
    line.analysed = analysed;
    line.onEnd = () => this._finish(line);
    line.onError = () => this._audioFailed(line);
    line.onProgress = () => this._watch(line);
    audio.addEventListener("ended", line.onEnd);
    audio.addEventListener("error", line.onError);
    audio.addEventListener("timeupdate", line.onProgress);
    audio.src = line.url;
    this._watch(line);
    let played;
    try { played = audio.play(); } catch (err) { played = Promise.reject(err); }
    const onPlaying = () => { if (!line.done) this.root.classList.add("avatar--audible"); this._paintStill(); };
    if (played && played.then) {
      played.then(onPlaying, (err) => {
        if (line.done) return;
        if (err && err.name === "NotAllowedError") this._refused(line);
        else this._audioFailed(line);
      });
    } else {
      onPlaying();
    }
  }

  /** Progress resets the stall watchdog: audio that stops moving must not hang the interview. */
  _watch(line) {
    window.clearTimeout(line.stall);
    line.stall = window.setTimeout(() => { if (!line.done && !line.refused) this._audioFailed(line); }, STALL_MS);
  }

  _audioFailed(line) {
    if (line.done || line.failed) return;
    line.failed = true;
    window.clearTimeout(line.stall);
    if (line.audio) line.audio.pause();
    this.root.classList.remove("avatar--audible");
    this._paintStill();
    this._readThenFinish(line);
  }

  _refused(line) {
    line.refused = true;
    window.clearTimeout(line.stall);
    this._offer = { text: line.text, url: line.url, line };
    this._play.hidden = false;
    this._readThenFinish(line);
  }

  _hideOffer() {
    this._offer = null;
    this._play.hidden = true;
  }

  _onPlayClick() {
    const offer = this._offer;
    this._hideOffer();
    if (!offer) return;
    this._resumeContext();
    let line = offer.line;
    if (line.done) {  // its reading time is over: play it again as a line of its own
      const returnTo = this._state === "speaking" ? "idle" : this._state;
      this.stop();
      line = { text: offer.text, url: offer.url, done: false, timers: [], started: now(), resolve: () => {}, returnTo };
      this._line = line;
      this._showCaption(line.text);
      this.setState("speaking");
    } else {
      line.timers.forEach((t) => window.clearTimeout(t));
      line.timers = [];
      line.refused = false;
    }
    this._startAudio(line);  // synchronously, still inside the click
  }

  // ----- audio plumbing -----

  _context() {
    if (this._ctx || this._noContext) return this._ctx;
    const Ctor = window.AudioContext || window.webkitAudioContext;
    try {
      this._ctx = Ctor ? new Ctor() : null;
    } catch {
      this._ctx = null;
    }
    this._noContext = !this._ctx;
    return this._ctx;
  }

  /** A suspended context may wake (it does once the page has had a gesture); inside a gesture
   *  nothing waits, as WebKit allows play() only there: that line goes unanalysed instead. */
  _wakeContext() {
    const resumed = this._resumeContext();
    const inGesture = navigator.userActivation ? navigator.userActivation.isActive : false;
    if (!resumed || inGesture) return null;
    return Promise.race([resumed, new Promise((r) => { window.setTimeout(r, WAKE_MS); })]);
  }

  /** Resumes the context if it is not running; a promise then, else null. */
  _resumeContext() {
    const ctx = this._context();
    if (!ctx || ctx.state === "running") return null;
    try {
      return Promise.resolve(ctx.resume()).catch(() => {});
    } catch {
      return null;
    }
  }

  _element() {
    if (!this._audio) {
      this._audio = new Audio();
      this._audio.preload = "auto";
    }
    return this._audio;
  }

  /** The element to play through, analysed when Web Audio runs; a plain one when it cannot. */
  _player() {
    const audio = this._element();
    const ctx = this._ctx;
    if (ctx && ctx.state === "running" && !this._unanalysable) {
      if (!this._source) {
        try {
          this._source = ctx.createMediaElementSource(audio);
          this._analyser = ctx.createAnalyser();
          this._analyser.fftSize = 1024;
          this._buffer = new Uint8Array(this._analyser.fftSize);
          this._source.connect(this._analyser);
          this._analyser.connect(ctx.destination);
        } catch {  // e.g. the element is tied to another context: play it as it is
          this._source = null;
          this._unanalysable = true;
          return { audio, analysed: false };
        }
      }
      return { audio, analysed: true };
    }
    // Routed through a suspended context the shared element would be silent: use a fresh one.
    if (this._source) return { audio: new Audio(), analysed: false };
    return { audio, analysed: false };
  }

  _rms() {
    this._analyser.getByteTimeDomainData(this._buffer);
    let sum = 0;
    for (let i = 0; i < this._buffer.length; i += 1) {
      const v = (this._buffer[i] - 128) / 128;
      sum += v * v;
    }
    return Math.sqrt(sum / this._buffer.length);
  }

  // ----- motion -----

  _setReduced(reduced) {
    if (this._destroyed || reduced === this._reduced) return;
    this._reduced = reduced;
    this.root.classList.toggle("avatar--reduced", reduced);
    window.cancelAnimationFrame(this._frame);
    if (reduced) {
      this._setNodding(false);
      this._fig.head.removeAttribute("transform");
      this._fig.features.removeAttribute("transform");
      this._fig.eyes.removeAttribute("transform");
      this._paintStill();
    } else {
      this._anim.last = now();
      this._frame = window.requestAnimationFrame(this._tick);
    }
  }

  _setNodding(on) {
    this._anim.nodding = on;
    if (!on) { this._anim.above = 0; }
    this.root.classList.toggle("avatar--nodding", on);
  }

  _setMouth(open) {
    const value = Math.round(open * 100) / 100;
    if (value === this._anim.shown) return;
    this._anim.shown = value;
    this._fig.mouth.setAttribute("d", mouthPath(value));
    this._fig.mouth.setAttribute("data-open", String(value));
  }

  /** Reduced motion: one still mouth shape while audio plays, closed otherwise. */
  _paintStill() {
    if (!this._reduced) return;
    this._setMouth(this.root.classList.contains("avatar--audible") ? REDUCED_OPEN : 0);
  }

  _tick(t) {
    if (this._destroyed || this._reduced) return;
    const a = this._anim;
    const dt = Math.min(100, Math.max(0, t - a.last));
    a.last = t;
    this._moveMouth(t);
    this._followVoice(t, dt);
    this._moveHead(t);
    this._blink(t);
    this._frame = window.requestAnimationFrame(this._tick);
  }

  _moveMouth(t) {
    const a = this._anim;
    const line = this._line;
    let target = 0;
    if (line && line.audio && !line.done && !line.failed && !line.refused && !line.audio.paused) {
      if (line.analysed && this._analyser) {
        target = Math.pow(clamp01((this._rms() - 0.02) / 0.16), 0.8);
      } else {  // no Web Audio: a plain open and close while the audio plays
        const s = t / 1000;
        target = 0.2 + 0.5 * (0.5 + 0.5 * Math.sin(2 * Math.PI * 3.1 * s)) * (0.65 + 0.35 * Math.sin(2 * Math.PI * 0.7 * s));
      }
    }
    a.open += (target - a.open) * (target > a.open ? 0.55 : 0.3);
    if (a.open < 0.005) a.open = 0;
    this._setMouth(a.open);
  }

  /** Nod only after the candidate's voice has held for a moment, and stop after a pause. */
  _followVoice(t, dt) {
    const a = this._anim;
    const level = t - this._levelAt < LEVEL_STALE_MS ? this._level : 0;
    a.env += (level - a.env) * (level > a.env ? 0.3 : 0.08);
    if (a.env > NOD_LEVEL) { a.above += dt; a.below = 0; } else { a.below += dt; if (a.below > 300) a.above = 0; }
    if (!a.nodding && a.above >= NOD_AFTER_MS && this._state !== "speaking") {
      this._setNodding(true);
      a.nodAt = t;
    } else if (a.nodding && a.below >= NOD_STOP_MS) {
      this._setNodding(false);
    }
  }

  _moveHead(t) {
    const a = this._anim;
    let nodTarget = 0;
    if (a.nodding) {
      const p = ((t - a.nodAt) % NOD_PERIOD_MS) / NOD_PERIOD_MS;
      nodTarget = p < 0.45 ? Math.pow(Math.sin(Math.PI * (p / 0.45)), 2) : 0;
    }
    a.nod += (nodTarget - a.nod) * 0.25;
    a.tilt += ((this._state === "listening" ? -2 : 0) - a.tilt) * 0.06;
    a.gaze += ((this._state === "thinking" ? 1 : 0) - a.gaze) * 0.08;
    const [px, py] = PIVOT;
    this._transform(this._fig.head,
      `rotate(${a.tilt.toFixed(2)} ${px} ${py}) translate(0 ${(a.nod * 2.4).toFixed(2)})`);
    this._transform(this._fig.features,
      `translate(${(a.gaze * 1.6).toFixed(2)} ${(a.nod * 1.8 - a.gaze * 1.4).toFixed(2)})`);
  }

  _transform(el, value) {
    if (el.getAttribute("transform") !== value) el.setAttribute("transform", value);
  }

  _blink(t) {
    const a = this._anim;
    if (a.blinkStart < 0 && t >= a.blinkAt) a.blinkStart = t;
    let scale = 1;
    if (a.blinkStart >= 0) {
      const p = (t - a.blinkStart) / 170;
      if (p >= 1) {
        a.blinkStart = -1;
        a.blinkAt = t + (Math.random() < 0.15 ? 180 : 2600 + Math.random() * 3600);
      } else {
        scale = 1 - 0.9 * Math.sin(Math.PI * p);
      }
    }
    this._transform(this._fig.eyes, scale === 1 ? "" : `translate(0 74) scale(1 ${scale.toFixed(3)}) translate(0 -74)`);
  }
}
