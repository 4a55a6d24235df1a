"""docs/model-card.md is the registry entry of the model that scores, rendered: it stays true."""

from __future__ import annotations

from pathlib import Path

from models.scoring.card import render_markdown
from services import cli

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_model_card_is_the_scoring_models_own(tmp_path: Path) -> None:
    out = tmp_path / "model-card.md"
    assert cli.main(["model-card", "--out", str(out)]) == 0
    assert out.read_text() == (ROOT / "docs" / "model-card.md").read_text(), (
        "docs/model-card.md is stale: run `parley model-card`"
    )


def test_a_card_renders_every_part_it_is_given() -> None:
    text = render_markdown(
        {
            "name": "Calibrated v3",
            "version": "v3-abc",
            "calibrated": True,
            "encoder": "none",
            "training_data": {"source": "panel labels, 3 raters", "items": {"ownership": 12}},
            "agreement_method": "held-out items",
            "agreement": {"ownership": {"n": 12, "qwk": 0.71234, "rater_qwk": 0.69}},
            "known_limits": ["Few items."],
        }
    )
    assert "# Model card: Calibrated v3" in text
    assert "**Calibrated by psychologists:** yes" in text
    assert "| ownership | 12 | 0.712 |" in text
    assert "- Few items." in text
