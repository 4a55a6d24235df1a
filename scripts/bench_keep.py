"""Time from "Keep this answer" to "answer stored" for a two-minute browser recording.

    .venv/bin/python scripts/bench_keep.py [--seconds 120] [--runs 5] [--uplink-mbps 5]

Starts a throw-away embedded Parley (SQLite, local media) behind a real uvicorn server in a temp
folder, and makes two recordings the way Chrome's MediaRecorder does: webm with Opus audio, and
webm with VP8 video at 2.5 Mbit/s plus Opus (a live stream: no duration, no index). Each is
sent as the page sends it: 3-second chunks while the candidate speaks, the last one flagged
final when the recording stops. What is timed is what the candidate waits for after "Keep":
the page's checksum of the whole recording and POST .../complete, which assembles the chunks,
checks them and queues the transcription.

Baseline, in the same run: the design without chunked upload, where "Keep" sends the whole
recording in one request and then completes it. Both are measured on localhost, where
bandwidth is free, and also shown at a candidate's uplink (--uplink-mbps) by adding the time
the bytes still to send after "Keep" take on that link.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHUNK_SECONDS = 3
VIDEO_BITRATE = 2_500_000


class _Stream:
    """A write-only file: the muxer cannot seek back, as in a browser's live recording."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        return len(chunk)


def _speech(seconds: float) -> np.ndarray:
    """The demo's synthesised answers joined, 48 kHz mono float32."""
    from models.asr import decode_audio

    parts, total = [], 0.0
    for path in sorted((ROOT / "services/core/demo/data/audio").glob("*/*.ogg")):
        samples = decode_audio(path).samples
        parts.append(samples)
        total += samples.size / 16000
        if total >= seconds:
            break
    pcm = np.concatenate(parts)[: int(seconds * 16000)]
    return np.interp(np.arange(int(seconds * 48000)) / 3, np.arange(pcm.size), pcm).astype(
        np.float32
    )


def _recording(seconds: float, *, video: bool) -> bytes:
    """A MediaRecorder-like webm: Opus audio, and VP8 video when asked."""
    out_file = _Stream()
    out = av.open(out_file, "w", format="webm")
    audio = out.add_stream("libopus", rate=48000)
    audio.bit_rate = 64_000
    picture = None
    if video:
        picture = out.add_stream("libvpx", rate=15)
        picture.width, picture.height, picture.pix_fmt = 640, 480, "yuv420p"
        picture.bit_rate = VIDEO_BITRATE
        picture.options = {"deadline": "realtime", "cpu-used": "8"}
    samples = _speech(seconds)
    step = 960  # 20 ms Opus frames
    frames_per_picture = 48000 // 15
    rng = np.random.default_rng(7)
    for start in range(0, samples.size, step):
        frame = av.AudioFrame.from_ndarray(
            samples[start : start + step].reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = 48000
        frame.pts = start
        frame.time_base = Fraction(1, 48000)
        for packet in audio.encode(frame):
            out.mux(packet)
        if picture is not None and start % frames_per_picture < step:
            noise = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)  # hard to compress
            image = av.VideoFrame.from_ndarray(noise, format="rgb24")
            image.pts = start // frames_per_picture
            for packet in picture.encode(image):
                out.mux(packet)
    for stream in (audio, picture):
        if stream is not None:
            for packet in stream.encode(None):
                out.mux(packet)
    out.close()
    return bytes(out_file.data)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls) -> Server:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "services.api.app:create_app",
             "--port", str(port), "--log-level", "warning"],
            cwd=ROOT,
            env=dict(os.environ),
        )
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                    return cls(url, process)
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the server did not start")


def _new_invite() -> tuple[str, str]:
    from services.core.db import unit_of_work
    from services.core.interviews import candidate, invitations
    from services.core.roles.orm import JobRole

    with unit_of_work() as session:
        role = session.query(JobRole).first()
        assert role is not None
        issued = invitations.invite_candidate(
            session, org_id=role.org_id, actor_id=None, role_id=role.id, name="Bench",
            email="bench@example.com", ttl_days=1,
        )
        candidate.record_consent(
            session, interview=issued.interview, accepted=True,
            notice_version=candidate.NOTICE_VERSION, client="bench",
        )
        return issued.token, role.script[0].question_id


def _put(client: httpx.Client, path: str, data: bytes, index: int, *, final: bool) -> None:
    headers = {"Content-Type": "video/webm", "X-Chunk-SHA256": hashlib.sha256(data).hexdigest()}
    if final:
        headers["X-Final-Chunk"] = "true"
    client.put(f"{path}/chunks/{index}", content=data, headers=headers).raise_for_status()


def _keep(client: httpx.Client, path: str, data: bytes, chunks: int) -> None:
    digest = hashlib.sha256(data).hexdigest()  # the page's summary() of the whole recording
    response = client.post(f"{path}/complete", json={"chunk_count": chunks, "sha256": digest})
    response.raise_for_status()
    assert response.json()["state"] == "uploaded", response.text


def one_run(server: Server, data: bytes, seconds: float, *, chunked: bool) -> tuple[float, int]:
    """Seconds from "Keep" to stored, and the bytes sent after "Keep"."""
    token, question_id = _new_invite()
    path = f"/api/v1/candidate/answers/{question_id}"
    with httpx.Client(base_url=server.url, headers={"X-Invite-Token": token}, timeout=120) as c:
        if chunked:
            size = max(1, int(len(data) * CHUNK_SECONDS / seconds))
            parts = [data[i : i + size] for i in range(0, len(data), size)]
            for index, part in enumerate(parts):  # while recording, and the final one at stop
                _put(c, path, part, index, final=index == len(parts) - 1)
            started = time.perf_counter()
            _keep(c, path, data, len(parts))
            return time.perf_counter() - started, 0
        started = time.perf_counter()
        _put(c, path, data, 0, final=True)
        _keep(c, path, data, 1)
        return time.perf_counter() - started, len(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--uplink-mbps", type=float, default=5.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="parley-bench-keep-"))
    os.environ.update(
        PARLEY_DATA_DIR=str(folder),
        PARLEY_MAX_CHUNK_BYTES=str(64 * 1024 * 1024),  # the baseline sends one big request
    )
    from services.core import migrate
    from services.core.demo import loader

    class NoPublisher:
        def publish(self, task_name: str, *task_args: str) -> None:
            """No worker here: the transcription that follows is not timed."""

    migrate.upgrade()
    loader.load_demo(publisher=NoPublisher(), password="bench-password-123")
    recordings = {
        "audio": _recording(args.seconds, video=False),
        "audio+video": _recording(args.seconds, video=True),
    }
    server = Server.start()
    print(f"{args.seconds:.0f} s answer, median of {args.runs} runs after a warm-up; uplink "
          f"{args.uplink_mbps:g} Mbit/s for the right-hand column\n")
    print(f"{'recording':<12} {'size':>8}  {'design':<30} {'localhost':>10} {'at uplink':>10}")
    try:
        for kind, data in recordings.items():
            for chunked, design in ((False, "baseline: upload at Keep"),
                                    (True, "Parley: chunks while speaking")):
                one_run(server, data, args.seconds, chunked=chunked)  # warm-up
                runs = [one_run(server, data, args.seconds, chunked=chunked)
                        for _ in range(args.runs)]
                local = statistics.median(t for t, _ in runs)
                after_keep = runs[0][1]
                on_link = local + after_keep * 8 / (args.uplink_mbps * 1e6)
                print(f"{kind:<12} {len(data) / 1e6:>6.1f} MB  {design:<30} "
                      f"{local * 1000:>8.0f} ms {on_link:>9.2f} s")
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
    print("\nParley's figure is the candidate's wait after Keep whatever the link: the last "
          "chunk left when the recording stopped, before the Keep/Record again choice.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
