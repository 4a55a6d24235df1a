// Microphone/camera access, a live level meter, and an answer recorder that uploads its
// chunks while the candidate is still speaking. No page flow in here: see app.js.

import { sha256Hex } from "/shared/api.js";

/** In order of preference; video only when a camera is on, mp4 for Safari. */
export const MIME_TYPES = ["video/webm;codecs=vp8,opus", "audio/webm;codecs=opus", "audio/mp4"];

/** The first recording format this browser supports for the stream, or "" (browser's choice). */
export function pickMimeType(hasVideo) {
  if (typeof MediaRecorder === "undefined") return null;
  for (const type of MIME_TYPES) {
    if (!hasVideo && type.startsWith("video/")) continue;
    if (typeof MediaRecorder.isTypeSupported !== "function" || MediaRecorder.isTypeSupported(type)) return type;
  }
  return "";
}

/** Why the devices could not be opened: kind is denied | not_found | busy | insecure | unsupported | other. */
export class MediaAccessError extends Error {
  constructor(kind, cause) {
    super(cause?.message || kind);
    this.name = "MediaAccessError";
    this.kind = kind;
    this.cause = cause;
  }
}

function kindOf(err) {
  switch (err && err.name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
    case "SecurityError":
      return "denied";
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return "not_found";
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return "busy";
    default:
      return "other";
  }
}

// Faithful levels: no automatic gain, noise suppression or echo cancellation.
export const AUDIO_CONSTRAINTS = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
const VIDEO_CONSTRAINTS = { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } };

/**
 * Open the microphone, and the camera when wanted. Falls back to audio only when there is no
 * usable camera. Resolves to {stream, hasVideo, cameraProblem}; throws MediaAccessError.
 */
export async function openDevices({ video = true } = {}) {
  if (!window.isSecureContext) throw new MediaAccessError("insecure");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof MediaRecorder === "undefined") {
    throw new MediaAccessError("unsupported");
  }
  let cameraProblem = null;
  if (video) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: AUDIO_CONSTRAINTS, video: VIDEO_CONSTRAINTS });
      return { stream, hasVideo: stream.getVideoTracks().length > 0, cameraProblem: null };
    } catch (err) {
      cameraProblem = kindOf(err);
    }
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: AUDIO_CONSTRAINTS, video: false });
    return { stream, hasVideo: false, cameraProblem };
  } catch (err) {
    throw new MediaAccessError(kindOf(err), err);
  }
}

export function stopStream(stream) {
  if (stream) for (const track of stream.getTracks()) track.stop();
}

/** Live microphone level, 0..1, from an AnalyserNode; calls onLevel(level) every frame. */
export class LevelMeter {
  constructor(stream, onLevel) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    this.ctx = new Ctx();
    this.source = this.ctx.createMediaStreamSource(stream);
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.analyser.smoothingTimeConstant = 0.3;
    this.source.connect(this.analyser);
    this.buffer = new Uint8Array(this.analyser.fftSize);
    this.onLevel = onLevel;
    this.level = 0;
    this.frame = 0;
    this.running = true;
    if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
    this.tick = this.tick.bind(this);
    this.frame = window.requestAnimationFrame(this.tick);
  }

  tick() {
    if (!this.running) return;
    this.analyser.getByteTimeDomainData(this.buffer);
    let sum = 0;
    for (let i = 0; i < this.buffer.length; i += 1) {
      const v = (this.buffer[i] - 128) / 128;
      sum += v * v;
    }
    const rms = Math.sqrt(sum / this.buffer.length);
    const db = rms > 0 ? 20 * Math.log10(rms) : -100;
    const level = Math.min(1, Math.max(0, (db + 60) / 54)); // -60 dBFS .. -6 dBFS
    // Fast attack, slow release: easier to read.
    this.level = level > this.level ? level : this.level * 0.9 + level * 0.1;
    this.onLevel(this.level, db);
    this.frame = window.requestAnimationFrame(this.tick);
  }

  resume() { return this.ctx.state === "suspended" ? this.ctx.resume() : Promise.resolve(); }

  stop() {
    this.running = false;
    window.cancelAnimationFrame(this.frame);
    try { this.source.disconnect(); } catch { /* already gone */ }
    this.ctx.close().catch(() => {});
  }
}

function recordableStream(stream, mimeType) {
  // An audio format gets only the audio tracks, so a camera left on is not an error.
  return mimeType && mimeType.startsWith("audio/") ? new MediaStream(stream.getAudioTracks()) : stream;
}

/** Record a short local sample (never uploaded) for the candidate to play back. */
export function recordSample(stream, mimeType, seconds = 5) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let recorder;
    try {
      recorder = new MediaRecorder(recordableStream(stream, mimeType), mimeType ? { mimeType } : undefined);
    } catch (err) {
      reject(err);
      return;
    }
    recorder.addEventListener("dataavailable", (e) => { if (e.data && e.data.size) parts.push(e.data); });
    recorder.addEventListener("stop", () => resolve(new Blob(parts, { type: recorder.mimeType || mimeType })));
    recorder.addEventListener("error", (e) => reject(e.error || new Error("Recording failed")));
    recorder.start();
    window.setTimeout(() => { if (recorder.state !== "inactive") recorder.stop(); }, seconds * 1000);
  });
}

const sleep = (ms) => new Promise((resolve) => { window.setTimeout(resolve, ms); });

/**
 * Records one answer with MediaRecorder (timeslice 3 s) and uploads each chunk as it arrives,
 * in order, retrying transient failures with exponential backoff.
 *
 *   upload(index, blob, sha256Hex, contentType, final) -> Promise   (throws ApiError); `final`
 *     is true for the chunk the recording ended with (sent again with it if need be)
 *   onProgress({sentBytes, recordedBytes, sentChunks, chunkCount})
 *   onRetry({index, attempt, delayMs, error})
 *   onFatal(error)   a chunk was refused for good (e.g. 409 already_answered)
 */
export class AnswerRecorder {
  constructor({ stream, mimeType, upload, timeslice = 3000, onProgress = () => {}, onRetry = () => {},
    onFatal = () => {}, maxAttempts = 8 }) {
    this.stream = recordableStream(stream, mimeType);
    this.requestedType = mimeType;
    this.upload = upload;
    this.timeslice = timeslice;
    this.onProgress = onProgress;
    this.onRetry = onRetry;
    this.onFatal = onFatal;
    this.maxAttempts = maxAttempts;
    this.chunks = [];          // Blob per index, kept until the answer is complete
    this.hashes = [];
    this.sent = new Set();
    this.sentBytes = 0;
    this.recordedBytes = 0;
    this.queue = Promise.resolve();
    this.fatal = null;
    this.recorder = null;
    this.finalIndex = null;    // the chunk the recording ended with, once it has ended
  }

  get contentType() {
    const type = (this.recorder && this.recorder.mimeType) || this.requestedType || "audio/webm";
    return type.replace(/\s+/g, "");
  }

  start() {
    this.recorder = new MediaRecorder(this.stream, this.requestedType ? { mimeType: this.requestedType } : undefined);
    this.stopped = new Promise((resolve) => { this.recorder.addEventListener("stop", resolve, { once: true }); });
    this.recorder.addEventListener("dataavailable", (event) => {
      if (!event.data || event.data.size === 0) return;
      const index = this.chunks.length;
      // After stop() the recorder is inactive, and this is its last piece of data.
      if (this.recorder.state === "inactive") this.finalIndex = index;
      this.chunks.push(event.data);
      this.recordedBytes += event.data.size;
      this.progress();
      this.queue = this.queue.then(() => (this.fatal ? undefined : this.send(index))).catch((err) => {
        if (!err.transient && !this.fatal) {
          this.fatal = err;
          this.onFatal(err);
        }
      });
    });
    this.recorder.start(this.timeslice);
  }

  progress() {
    this.onProgress({ sentBytes: this.sentBytes, recordedBytes: this.recordedBytes,
      sentChunks: this.sent.size, chunkCount: this.chunks.length });
  }

  async send(index) {
    if (this.sent.has(index)) return;
    const blob = this.chunks[index];
    if (!this.hashes[index]) this.hashes[index] = await sha256Hex(blob);
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.upload(index, blob, this.hashes[index], this.contentType, index === this.finalIndex);
        this.sent.add(index);
        this.sentBytes += blob.size;
        this.progress();
        return;
      } catch (err) {
        if (!err.transient || attempt >= this.maxAttempts) throw err;
        const delayMs = Math.min(15000, 1000 * 2 ** (attempt - 1)) + Math.floor(Math.random() * 400);
        this.onRetry({ index, attempt, delayMs, error: err });
        await sleep(delayMs);
      }
    }
  }

  /** Stop recording (if still recording); resolves once the last chunk has been handed over. */
  async stop() {
    if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop();
    if (this.stopped) await this.stopped;
  }

  /**
   * Send every chunk not sent yet, and tell the server the recording is whole (the last chunk
   * goes with X-Final-Chunk; sent again if it left before the recorder stopped). Call after
   * stop(). Rejects with the error that stopped it.
   */
  async flush() {
    await this.queue.catch(() => {});
    if (this.fatal) throw this.fatal;
    for (let i = 0; i < this.chunks.length; i += 1) await this.send(i);
    const last = this.chunks.length - 1;
    if (last >= 0 && this.finalIndex !== last) {
      this.finalIndex = last;
      this.sent.delete(last);
      this.sentBytes -= this.chunks[last].size;
      await this.send(last);
    }
  }

  /** The whole recording as one Blob, for the candidate to play back before keeping it. */
  blob() {
    return new Blob(this.chunks, { type: this.contentType.split(";")[0] });
  }

  /** chunk_count and the hex sha256 of the whole recording, for POST .../complete. */
  async summary() {
    if (!this.chunks.length) return { chunkCount: 0, sha256: null, bytes: 0 };
    const whole = new Blob(this.chunks);
    return { chunkCount: this.chunks.length, sha256: await sha256Hex(whole), bytes: whole.size };
  }

  /** Send the chunks the server says it lacks (after a 409 chunks_missing). */
  async resend(indexes) {
    for (const i of indexes) this.sent.delete(i);
    for (const i of indexes) if (this.chunks[i]) await this.send(i);
  }

  cancel() {
    this.fatal = this.fatal || new Error("cancelled");
    if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop();
  }
}
