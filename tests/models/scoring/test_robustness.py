"""Answers that must never reach "meets" (level 3 = 50 of 100) for any competency, and a check
that length alone buys nothing. None of these texts is in the seed set the model learned from."""

from __future__ import annotations

import pytest

from models.scoring import Answer
from models.scoring.registry import ScoringModel

MEETS = 50.0
QUESTION = (
    "Tell me about a time you had to deliver bad news to a stakeholder. What was the "
    "situation, what did you do, and what happened?"
)
STRONG = (
    "Last spring I ran the returns desk at a furniture warehouse, and a customer's wedding "
    "order was damaged two days before the event. I phoned her that afternoon rather than "
    "emailing, because she would need to re-plan, and I told her the bad news first and then "
    "the two options I could offer. I had already checked that our other depot had the same "
    "table in stock, so I arranged a van for the next morning and stayed late to confirm the "
    "slot. It arrived a day before the wedding, and she wrote to my manager to thank us. "
    "Looking back, I learned to check the alternatives before I make the call, so the person "
    "hears a plan and not only a problem."
)
ADVERSARIAL = {
    "gibberish": "Blorf the quanzy mib, trellic noop vashed, and the fribble sporn went "
                 "glimmer on the tarp. Wibbet zonk pelloring, sna frimbly, gorp gorp.",
    "off_topic": "My favourite holiday was a week in Portugal. We stayed near the beach, the "
                 "food was amazing, especially the grilled sardines, and in the evenings we "
                 "walked along the harbour. I would love to go back there one day with friends.",
    "keyword_stuffed": "Communication, stakeholder management, transparency, alignment, "
                       "feedback, listening, clarity, empathy, impact, results, outcomes, "
                       "collaboration, ownership, accountability, solutions, strategy, synergy.",
    "repeated": " ".join(["I told the customer about the delay and it was fine."] * 12),
    "empty": "Sorry, I don't really have an example for this one. Can we skip it?",
    "boastful": "Honestly I'm an excellent communicator, everyone says so. I'm the best at "
                "delivering bad news, people love me for it, I never fail, and I'm known for "
                "being brilliant with stakeholders. That's just who I am, I'm a natural.",
    "padded": "So, um, bad news, yeah. Bad news is, you know, something that happens, and it "
              "happens a lot, basically, and it's kind of important, really important actually, "
              "to, like, deal with it, because bad news is bad, and when it's bad you have to "
              "tell people, and telling people is, um, part of the job, I mean it's definitely "
              "part of the job, and the job is the job, so yeah, you just tell them, basically, "
              "and that's it really, that's what you do, you know, with bad news, in general.",
    "star_recital": "Situation: there was a problem. Task: I had to tell the stakeholder. "
                    "Action: I told the stakeholder. Result: the stakeholder was told.",
}


@pytest.mark.parametrize("kind", sorted(ADVERSARIAL))
def test_adversarial_answers_never_reach_meets_for_any_competency(
    seed_model: ScoringModel, kind: str
) -> None:
    answer = Answer(ADVERSARIAL[kind], QUESTION)
    scores = {c: seed_model.score(c, answer, evidence=0).score for c in seed_model.scorers}

    assert all(score < MEETS for score in scores.values()), scores


def test_a_strong_specific_answer_meets_the_bar(seed_model: ScoringModel) -> None:
    result = seed_model.score("communication", Answer(STRONG, QUESTION))

    assert result.score >= MEETS and result.gates == ()
    assert result.evidence and all(e.text in STRONG and e.weight > 0 for e in result.evidence)


@pytest.mark.parametrize(
    "padding",
    [
        " So yeah, that's basically it, um, you know, that's kind of what happened really.",
        " " + STRONG,  # the same story told twice
        " I think communication is really important in general, and being honest matters, "
        "and keeping people informed is always good, so I try to do that wherever I can.",
    ],
)
def test_saying_more_of_the_same_does_not_raise_the_score(
    seed_model: ScoringModel, padding: str
) -> None:
    plain = seed_model.score("communication", Answer(STRONG, QUESTION), evidence=0).score
    longer = seed_model.score("communication", Answer(STRONG + padding, QUESTION), evidence=0)

    assert longer.score <= plain + 2.0, (plain, longer.score)


def test_empty_text_is_scored_at_the_bottom_with_its_reason(seed_model: ScoringModel) -> None:
    result = seed_model.score("ownership", Answer("", QUESTION))

    assert result.score < MEETS and "too_little_content" in result.gates
