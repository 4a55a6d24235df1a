"""The cold-start model: trained on the team's seed answers, and labelled as uncalibrated.

``data/seed_answers.csv`` holds answers to the default questions written by the Parley team
(see ``data/SEED_README.md``), from poor to excellent, with the adversarial kinds the scorer
must resist. Until psychologists calibrate and promote a model, this one scores, and every
screen says it is an uncalibrated demo model.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from models.scoring import registry
from models.scoring.agreement import agreement
from models.scoring.embeddings import MINILM_INT8
from models.scoring.features import Answer
from models.scoring.scorer import AnswerFeaturizer, CompetencyScorer

# Bump when features, the estimator or its settings change, so the version (and with it the
# scores' model_version) changes too.
REVISION = 3
_FOLDS = 5


def seed_csv() -> Path:
    return Path(str(resources.files("models.scoring") / "data" / "seed_answers.csv"))


def seed_rows() -> list[dict[str, str]]:
    with seed_csv().open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def seed_version() -> str:
    digest = hashlib.sha256(seed_csv().read_bytes() + f"rev{REVISION}".encode()).hexdigest()
    return f"parley-seed-r{REVISION}-{digest[:12]}"


def _fit(rows: Sequence[dict[str, str]], questions: Mapping[str, str]) -> CompetencyScorer:
    return CompetencyScorer(featurizer=AnswerFeaturizer(encoder=MINILM_INT8)).fit(
        [Answer(r["text"], questions.get(r["prompt"], "")) for r in rows],
        [float(r["score"]) for r in rows],
    )


def _cross_validated(rows: list[dict[str, str]], questions: Mapping[str, str]) -> dict[str, Any]:
    folds = np.array([int(hashlib.sha256(r["item_id"].encode()).hexdigest(), 16) % _FOLDS
                      for r in rows])
    predicted = np.zeros(len(rows))
    for fold in range(_FOLDS):
        model = _fit([r for r, f in zip(rows, folds, strict=True) if f != fold], questions)
        held = [i for i, f in enumerate(folds) if f == fold]
        predicted[held] = model.predict(
            [Answer(rows[i]["text"], questions.get(rows[i]["prompt"], "")) for i in held]
        )
    labels = [float(r["score"]) for r in rows]
    adversarial = [p for p, r in zip(predicted, rows, strict=True) if r["kind"] != "genuine"]
    return {
        **agreement(predicted, labels).as_dict(),
        "adversarial_max_level": round(float(max(adversarial, default=0.0)), 3),
    }


def build(root: Path, questions: Mapping[str, str], *, evaluate: bool = True) -> Path:
    """The seed model's artifact under ``root``, trained once and then reused.

    Args:
        root: The registry folder.
        questions: Question key -> text, for the relevance features.
        evaluate: Also cross-validate for the card (about half a minute on 2 cores).
    """
    version = seed_version()
    if (root / version / "LOCK").is_file():
        return root / version
    root.mkdir(parents=True, exist_ok=True)
    # One builder at a time: the worker processes that need it at once wait for the first one
    # (a minute or more of training each on 2 cores) instead of all building it.
    with _exclusive(root / ".seed-build.lock"):
        if (root / version / "LOCK").is_file():
            return root / version
        return _build(root, version, questions, evaluate=evaluate)


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """An advisory lock across processes (POSIX); elsewhere, none: a second builder's save is
    then refused and it uses the first one's artifact."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _build(root: Path, version: str, questions: Mapping[str, str], *, evaluate: bool) -> Path:
    by_criterion: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in seed_rows():
        by_criterion[row["criterion"]].append(row)
    scorers = {c: _fit(rows, questions) for c, rows in sorted(by_criterion.items())}
    card = {
        "name": "Parley seed model (uncalibrated demo)",
        "calibrated": False,
        "encoder": MINILM_INT8,
        "training_data": {
            "source": "data/seed_answers.csv: answers written by the Parley team, not real "
                      "candidates, labelled with the author's intended level (one label each)",
            "sha256": hashlib.sha256(seed_csv().read_bytes()).hexdigest(),
            "items": {c: len(rows) for c, rows in sorted(by_criterion.items())},
        },
        "agreement": (
            {c: _cross_validated(rows, questions) for c, rows in sorted(by_criterion.items())}
            if evaluate else {}
        ),
        "agreement_method": f"{_FOLDS}-fold cross-validation against the authors' labels; "
                            "no rater-versus-rater figure exists for single-labelled data",
        "known_limits": [
            "Not calibrated by psychologists: the labels are the authors' intent, so agreement "
            "with real raters is unknown.",
            "Written English answers from a small team: other styles, sectors and non-native "
            "phrasing are under-represented.",
            "Transcription errors (higher for accented speech) reach the scorer as wrong words.",
            "Answers caught by a gate rule (too little content, unknown words, repetition, off-topic, "
            "buzzwords, no personal action) are capped below the 'meets' level.",
        ],
    }
    try:
        return registry.save(root, version, scorers, card)
    except registry.ArtifactError:
        return root / version  # another process built it first
