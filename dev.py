#!/usr/bin/env python3
"""Parley's two commands, for a fresh machine that has only Python 3.11:

    python3 dev.py run    install everything, migrate, load demo data, start API + worker + web
    python3 dev.py test   install everything and run lint, import contracts and the whole test suite

Installs into ./.venv, pinned by requirements.lock; reinstalls only when the pins change.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".parley-installed"
CHROMIUM = Path("/usr/bin/chromium")


def _stamp() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "requirements.lock"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def install() -> None:
    if sys.version_info < (3, 11):
        sys.exit("Parley needs Python 3.11 or newer.")
    if not (BIN / "python").exists():
        print("dev.py: creating .venv", flush=True)
        venv.create(VENV, with_pip=True)
    if STAMP.exists() and STAMP.read_text() == _stamp():
        return
    print("dev.py: installing Parley and its pinned dependencies into .venv", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-c", "requirements.lock", "-e", ".[test]"], cwd=ROOT, check=True)
    STAMP.write_text(_stamp())


def ensure_chromium() -> None:
    """The browser tests drive Debian's Chromium; install it when missing and allowed to."""
    if CHROMIUM.exists() or shutil.which("apt-get") is None or os.geteuid() != 0:
        return
    print("dev.py: installing Debian's chromium for the browser tests", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def run(args: list[str]) -> int:
    install()
    return subprocess.call([str(BIN / "parley"), "run", *args], cwd=ROOT)


def test(args: list[str]) -> int:
    install()
    ensure_chromium()
    steps = [
        ("lint", [str(BIN / "ruff"), "check", "."]),
        ("import contracts", [str(BIN / "lint-imports")]),
        ("tests", [str(BIN / "python"), "-m", "pytest", *args]),
    ]
    for name, command in steps:
        print(f"dev.py: {name}: {' '.join(command[1:]) or command[0]}", flush=True)
        code = subprocess.call(command, cwd=ROOT)
        if code != 0:
            print(f"dev.py: {name} failed (exit {code})", flush=True)
            return code
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        print(__doc__)
        return 2
    command, args = sys.argv[1], sys.argv[2:]
    try:
        return run(args) if command == "run" else test(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
