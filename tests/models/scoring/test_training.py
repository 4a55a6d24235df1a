"""Generic training and evaluation on labelled text with several raters, and locked artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.scoring import registry, train
from models.scoring.agreement import agreement, mean_pairwise
from models.scoring.training import aggregate, read_labels
from tests.models.scoring.labelled import labelled_csv as _labelled_csv


def test_agreement_of_identical_ratings_is_perfect() -> None:
    result = agreement([1, 2, 3, 4], [1, 2, 3, 4])

    assert (result.qwk, result.pearson, result.exact, result.adjacent) == (1.0, 1.0, 1.0, 1.0)


def test_rater_pairs_are_compared_on_shared_items_only() -> None:
    ratings = {"a": {"1": 1, "2": 2, "3": 3}, "b": {"1": 1, "2": 2, "3": 3}, "c": {"9": 1}}

    result = mean_pairwise(ratings)

    assert result is not None and result.n == 3 and result.qwk == 1.0


def test_raters_are_aggregated_by_their_mean(tmp_path: Path) -> None:
    labels = read_labels(_labelled_csv(tmp_path / "labels.csv", items=4))

    items = aggregate(labels)["essay"]

    assert all(item.label == np.mean(list(item.ratings.values())) for item in items)
    assert {len(item.ratings) for item in items} == {2}


def test_the_command_trains_evaluates_and_reports_beside_the_raters(tmp_path: Path) -> None:
    data = _labelled_csv(tmp_path / "labels.csv")
    out = tmp_path / "report"

    code = train.main(["--data", str(data), "--out", str(out), "--no-embeddings",
                       "--save-to", str(tmp_path / "registry"), "--version", "essays-v1"])

    assert code == 0
    report = json.loads((out / "report.json").read_text())
    (criterion,) = report["criteria"]
    assert criterion["test_items"] >= 2 and criterion["rater_vs_rater"]["n"] >= 2
    assert criterion["model_vs_panel"]["qwk"] > 0.5
    assert "| essay |" in (out / "report.md").read_text()
    model = registry.load(tmp_path / "registry" / "essays-v1")
    assert set(model.scorers) == {"essay"} and not model.calibrated


def test_a_malformed_labels_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("item_id,text,criterion,rater,score\na,hello,c,r,three\n")

    with pytest.raises(ValueError, match=r"line 2: score 'three' is not a number"):
        read_labels(path)
    assert train.main(["--data", str(path), "--out", str(tmp_path / "o")]) == 2


def test_a_changed_artifact_is_refused(tmp_path: Path) -> None:
    data = _labelled_csv(tmp_path / "labels.csv", items=20)
    train.main(["--data", str(data), "--out", str(tmp_path / "o"), "--no-embeddings",
                "--save-to", str(tmp_path / "reg"), "--version", "v1"])
    model_file = tmp_path / "reg" / "v1" / "model.joblib"
    model_file.write_bytes(model_file.read_bytes() + b"\0")

    with pytest.raises(registry.ArtifactError, match="does not match its LOCK"):
        registry.load(tmp_path / "reg" / "v1")


def test_an_existing_version_is_never_overwritten(tmp_path: Path) -> None:
    registry.save(tmp_path, "v1", {}, {"name": "first"})

    with pytest.raises(registry.ArtifactError, match="already exists"):
        registry.save(tmp_path, "v1", {}, {"name": "second"})
    assert registry.read_card(tmp_path / "v1")["name"] == "first"
