"""Locked model artifacts: the fitted scorers, their card, and the hash that seals them.

An artifact is a folder ``<root>/<version>/`` with ``model.joblib`` (criterion -> fitted
``CompetencyScorer``), ``card.json`` (the model card: training data and its provenance,
agreement figures, known limits) and ``LOCK`` (the SHA-256 of ``model.joblib``). Loading checks
the lock, so a changed file is refused rather than used to score people.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

from models.scoring.features import Answer
from models.scoring.scorer import CompetencyScorer, Evidence


class ArtifactError(Exception):
    """An artifact is missing, incomplete or does not match its lock."""


@dataclass(frozen=True)
class CriterionScore:
    """One criterion's result for one answer."""

    criterion: str
    level: float
    score: float
    gates: tuple[str, ...]
    evidence: tuple[Evidence, ...]


@dataclass
class ScoringModel:
    """A loaded artifact: per-criterion scorers and the card that describes them."""

    version: str
    scorers: Mapping[str, CompetencyScorer]
    card: dict[str, Any]

    @property
    def calibrated(self) -> bool:
        return bool(self.card.get("calibrated", False))

    def score(self, criterion: str, answer: Answer, *, evidence: int = 3) -> CriterionScore:
        """Score one answer on one criterion; KeyError if the model has no such criterion."""
        scorer = self.scorers[criterion]
        found = scorer.assess(answer, top=evidence)
        return CriterionScore(
            criterion=criterion,
            level=round(found.level, 3),
            score=round(found.score, 1),
            gates=found.gates,
            evidence=found.evidence,
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save(root: Path, version: str, scorers: Mapping[str, CompetencyScorer],
         card: Mapping[str, Any]) -> Path:
    """Write and lock an artifact; an existing version is never overwritten."""
    target = root / version
    if target.exists():
        raise ArtifactError(f"model version {version} already exists at {target}")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=root))
    try:
        joblib.dump(dict(scorers), staging / "model.joblib", compress=3)
        (staging / "card.json").write_text(
            json.dumps({**card, "version": version}, indent=2, sort_keys=True) + "\n"
        )
        (staging / "LOCK").write_text(_sha256(staging / "model.joblib") + "\n")
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def load(folder: Path) -> ScoringModel:
    """Load a locked artifact; ArtifactError if it is incomplete or was changed."""
    try:
        lock = (folder / "LOCK").read_text().strip()
        card = json.loads((folder / "card.json").read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{folder}: not a model artifact ({exc})") from exc
    model_file = folder / "model.joblib"
    if not model_file.is_file() or _sha256(model_file) != lock:
        raise ArtifactError(f"{folder}: model.joblib does not match its LOCK; refusing to load")
    scorers = joblib.load(model_file)
    return ScoringModel(version=card["version"], scorers=scorers, card=card)


def read_card(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "card.json").read_text()))
