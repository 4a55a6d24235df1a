#!/usr/bin/env python3
"""The floor under transcription time: what Whisper costs before and while it decodes.

    .venv/bin/python scripts/bench_asr_floor.py [--model base] [--threads 2] [--runs 5]

Whisper's encoder always reads a 30-second window (3,000 feature frames), so a 15-minute
interview costs at least 30 encoder passes, whatever the decoding setup. This times one pass of
the model's encoder per compute type (the median of --runs after a warm-up), then transcribes
two minutes of real speech greedily with no timestamps (the cheapest decoding faster-whisper
offers) and with beam 5, and scales both to 15 minutes. The speech is the recorded clips in
``tests/data/speech`` (speechocean762 and LibriSpeech), repeated to length. The baseline is
the issue's target: 30 s of worker time for a 15-minute interview.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.asr.whisper import WhisperOptions, resolve_model_dir  # noqa: E402

TARGET_S = 30.0
WINDOWS_PER_15_MIN = 30
SAMPLE_RATE = 16_000


def _speech(seconds: int) -> np.ndarray:
    from faster_whisper.audio import decode_audio

    clips = sorted((ROOT / "tests" / "data" / "speech").rglob("*.wav"))
    clips += sorted((ROOT / "tests" / "data" / "speech").glob("*.flac"))
    audio = np.concatenate([decode_audio(str(c)) for c in clips])
    return np.tile(audio, int(np.ceil(seconds * SAMPLE_RATE / len(audio))))[: seconds * SAMPLE_RATE]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="base")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import ctranslate2
    from faster_whisper import WhisperModel

    folder = str(resolve_model_dir(WhisperOptions(model=args.model)))
    window = _speech(30)
    print(f"Whisper {args.model}, {args.threads} threads; target: {TARGET_S:.0f} s of worker "
          f"time for 15 minutes ({WINDOWS_PER_15_MIN} windows)\n")
    print("| step | compute type | s per 30-s window | s per 15 minutes | share of target |")
    print("|---|---|---|---|---|")
    floor = float("inf")
    for compute_type in ("int8", "int8_float32", "float32"):
        model = WhisperModel(folder, device="cpu", compute_type=compute_type,
                             cpu_threads=args.threads)
        frames = model.feature_extractor(window)[None, :, :3000].astype(np.float32)
        features = ctranslate2.StorageView.from_array(np.ascontiguousarray(frames))
        model.model.encode(features, to_cpu=True)
        seconds = []
        for _ in range(args.runs):
            started = time.perf_counter()
            model.model.encode(features, to_cpu=True)
            seconds.append(time.perf_counter() - started)
        per_window = statistics.median(seconds)
        total = per_window * WINDOWS_PER_15_MIN
        floor = min(floor, total)
        print(f"| encoder only | {compute_type} | {per_window:.3f} | {total:.1f} | "
              f"{total / TARGET_S:.0%} |")
    model = WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=args.threads)
    speech = _speech(120)
    list(model.transcribe(speech[: 5 * SAMPLE_RATE], beam_size=1)[0])  # warm-up
    for beam in (1, 5):
        started = time.perf_counter()
        segments, _ = model.transcribe(speech, beam_size=beam, without_timestamps=True,
                                       condition_on_previous_text=False, temperature=0.0,
                                       language="en")
        words = sum(len(s.text.split()) for s in segments)
        total = (time.perf_counter() - started) * 7.5
        print(f"| 2 min transcribed, beam {beam}, no timestamps ({words} words) | int8 | "
              f"{total / WINDOWS_PER_15_MIN:.3f} | {total:.1f} | {total / TARGET_S:.0%} |")
    print(f"\nThe encoder alone needs {floor:.1f} s of the {TARGET_S:.0f} s target, before any "
          "token is decoded.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
