"""The seed model is built once, even when several worker processes need it at the same moment."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from models.scoring import seed


def test_builders_that_start_together_wait_for_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Training is a minute of work; what is under test is who does it, so it is stood in for
    # by a slow write of the artifact's LOCK, the file build() looks for.
    trained: list[str] = []

    def slow_build(root: Path, version: str, questions: object, *, evaluate: bool) -> Path:
        trained.append(threading.current_thread().name)
        time.sleep(0.5)
        (root / version).mkdir()
        (root / version / "LOCK").write_text("sha\n")
        return root / version

    monkeypatch.setattr(seed, "_build", slow_build)
    found: list[Path] = []
    builders = [
        threading.Thread(target=lambda: found.append(seed.build(tmp_path, {})), name=f"w{i}")
        for i in range(4)
    ]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join(timeout=30)

    assert len(trained) == 1, trained
    assert found == [tmp_path / seed.seed_version()] * 4
