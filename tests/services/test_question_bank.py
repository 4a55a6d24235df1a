"""The shipped default rubric and question bank, and installing the bank into an organisation."""

from __future__ import annotations

import re
from collections import Counter

from services.core.demo.loader import content
from services.core.roles import bank
from services.core.rubrics import service as rubrics
from tests.services.conftest import World

COMPETENCIES = {
    "communication",
    "problem_solving",
    "collaboration",
    "ownership",
    "adaptability_learning",
    "leadership_influence",
}
STAR_TAIL = " What was the situation, what did you do, and what happened?"
# Topics an interviewer must not ask about (protected characteristics and private life).
FORBIDDEN = re.compile(
    r"\b(age|old|young|born|birth|married|marriage|spouse|partner|children|kids|family|"
    r"pregnan\w*|health|ill\w*|sick\w*|disab\w*|religio\w*|church|nationality|citizen\w*|"
    r"country|accent|ethnic\w*|race|gender|sexual\w*|politic\w*|union)\b",
    re.IGNORECASE,
)


def test_the_bank_has_at_least_six_questions_per_competency_with_unique_keys() -> None:
    questions = bank.question_bank()
    per_competency = Counter(q.competency_key for q in questions)
    assert len(questions) >= 36
    assert set(per_competency) == COMPETENCIES
    assert min(per_competency.values()) >= 6
    assert len({q.key for q in questions}) == len(questions)
    assert len({q.text for q in questions}) == len(questions)


def test_the_bank_holds_the_demo_questions_unchanged() -> None:
    shipped = {q.key: q for q in bank.question_bank()}
    for demo in content()["questions"]:
        assert shipped[demo["key"]].text == demo["text"]
        assert shipped[demo["key"]].competency_key == demo["competency"]


def test_every_question_asks_for_one_real_situation_and_nothing_private() -> None:
    for q in bank.question_bank():
        assert q.text.startswith("Tell me about a time "), q.key
        assert q.text.endswith(STAR_TAIL), q.key
        assert q.text.count("?") == 1, q.key
        assert not FORBIDDEN.search(q.text), q.key


def test_the_default_rubric_extends_the_demo_rubric_with_more_examples() -> None:
    shipped, demo = rubrics.default_rubric(), content()["rubric"]
    assert shipped["name"] == demo["name"]
    assert [c["key"] for c in shipped["competencies"]] == [c["key"] for c in demo["competencies"]]
    assert {c["key"] for c in shipped["competencies"]} == COMPETENCIES
    for ours, theirs in zip(shipped["competencies"], demo["competencies"], strict=True):
        assert ours["description"] == theirs["description"]
        for indicator, demo_indicator in zip(ours["indicators"], theirs["indicators"], strict=True):
            assert indicator["key"] == demo_indicator["key"]
            assert [lv["level"] for lv in indicator["levels"]] == [1, 2, 3, 4, 5]
            for level, demo_level in zip(
                indicator["levels"], demo_indicator["levels"], strict=True
            ):
                assert level["anchor"] == demo_level["anchor"]
                assert level["examples"][: len(demo_level["examples"])] == demo_level["examples"]
                assert len(level["examples"]) >= 3, (indicator["key"], level["level"])


def test_every_staff_member_can_read_the_shipped_bank(world: World) -> None:
    response = world.staff(world.a, "recruiter").get("/api/v1/question-bank")
    assert response.status_code == 200
    assert response.json() == [
        {"key": q.key, "competency_key": q.competency_key, "text": q.text}
        for q in bank.question_bank()
    ]


def test_installing_the_bank_adds_only_missing_questions_and_is_idempotent(world: World) -> None:
    psychologist = world.staff(world.a, "psychologist")
    shipped = bank.question_bank()
    seeded = psychologist.get("/api/v1/questions").json()
    assert {q["key"] for q in seeded} <= {q.key for q in shipped}

    first = psychologist.post("/api/v1/question-bank/install")
    second = psychologist.post("/api/v1/question-bank/install")

    assert (first.status_code, first.json()) == (200, {"added": len(shipped) - len(seeded)})
    assert (second.status_code, second.json()) == (200, {"added": 0})
    questions = psychologist.get("/api/v1/questions").json()
    assert sorted(q["key"] for q in questions) == sorted(q.key for q in shipped)
    assert {q["id"] for q in seeded} <= {q["id"] for q in questions}  # seeded rows kept
    other_org = world.staff(world.b, "recruiter").get("/api/v1/questions").json()
    assert len(other_org) == len(world.b.question_ids)
    events = world.staff(world.a, "admin").get("/api/v1/audit").json()
    assert [e["action"] for e in events].count("question_bank.install") == 1
