"""The evidence sentences, computed once per sentence, agree with scoring every left-out
variant as a text of its own, the slow and obvious definition."""

from __future__ import annotations

import numpy as np
import pytest

from models.scoring import Answer
from models.scoring.features import interpretable_features, leave_one_out_features
from models.scoring.registry import ScoringModel
from models.scoring.seed import seed_rows
from models.scoring.text import split_sentences

from .conftest import questions


def _without(text: str, index: int) -> str:
    return " ".join(s.text for i, s in enumerate(split_sentences(text)) if i != index)


def _answers() -> list[tuple[str, Answer]]:
    asked = questions()
    # Every fifth seed answer: all levels and every adversarial kind, 67 answers.
    return [(r["criterion"], Answer(r["text"], asked[r["prompt"]])) for r in seed_rows()[::5]]


def test_each_variants_features_are_those_of_its_own_text() -> None:
    checked = 0
    for _, answer in _answers():
        sentences = split_sentences(answer.text)
        rows = leave_one_out_features(answer, sentences, {"the", "i", "a"}, variants=True)
        assert len(rows) == len(sentences) + 1
        np.testing.assert_allclose(rows[0], interpretable_features(answer, {"the", "i", "a"}))
        for i in range(len(sentences)):
            alone = interpretable_features(Answer(_without(answer.text, i), answer.question),
                                           {"the", "i", "a"})
            np.testing.assert_allclose(rows[i + 1], alone, atol=1e-12)
            checked += 1
    assert checked > 300


def test_assessment_matches_scoring_each_variant_whole(seed_model: ScoringModel) -> None:
    for criterion, answer in _answers():
        scorer = seed_model.scorers[criterion]
        found = scorer.assess(answer, top=3)
        sentences = split_sentences(answer.text)
        whole = scorer.score_100(
            [answer, *(Answer(_without(answer.text, i), answer.question)
                       for i in range(len(sentences)))]
        )
        assert found.score == pytest.approx(whole[0], abs=1e-6)
        assert found.level == pytest.approx(float(scorer.predict([answer])[0]), abs=1e-9)
        if len(sentences) < 2:  # nothing to leave out: the one sentence, unweighted
            assert [(e.text, e.weight) for e in found.evidence] == [
                (s.text, 0.0) for s in sentences
            ]
            continue
        for item in found.evidence:
            i = next(n for n, s in enumerate(sentences) if s.start == item.start)
            assert item.weight == pytest.approx(whole[0] - whole[i + 1], abs=0.01)
        drops = sorted((whole[0] - whole[1:]).round(6), reverse=True)
        expected = [d for d in drops[:3] if d > 0]
        assert [round(e.weight, 2) for e in found.evidence] == pytest.approx(
            [round(float(d), 2) for d in expected], abs=0.011
        )


def test_a_repeated_answer_trips_the_repetition_gate(seed_model: ScoringModel) -> None:
    repeated = Answer(" ".join(["I told the customer about the delay and it was fine."] * 12),
                      "Tell me about a time you had to deliver bad news.")
    found = seed_model.scorers["communication"].assess(repeated, top=3)
    assert "repetitive" in found.gates
    assert found.level <= 2.0


def test_without_evidence_the_score_is_the_same(seed_model: ScoringModel) -> None:
    criterion, answer = _answers()[3]
    scorer = seed_model.scorers[criterion]
    assert scorer.assess(answer, top=0).score == pytest.approx(scorer.assess(answer).score)
    assert scorer.assess(answer, top=0).evidence == ()
