"""The seed model, trained once per test session from the answers Parley ships."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.scoring import registry, seed
from models.scoring.registry import ScoringModel

BANK = Path(__file__).parents[3] / "services" / "core" / "rubrics" / "data" / "question_bank.json"


def questions() -> dict[str, str]:
    return {q["key"]: q["text"] for q in json.loads(BANK.read_text(encoding="utf-8"))}


@pytest.fixture(scope="session")
def seed_model(tmp_path_factory: pytest.TempPathFactory) -> ScoringModel:
    folder = seed.build(tmp_path_factory.mktemp("registry"), questions(), evaluate=False)
    return registry.load(folder)
