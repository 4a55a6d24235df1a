"""Scoring after transcription: the consent and pause gate, one score set per model version,
the audit entry, and the real chain through a worker process on both kinds of stack."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.api.app import create_app
from services.api.publisher import CeleryPublisher
from services.core import jobs
from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work, utcnow
from services.core.interviews.orm import Answer, Consent, Score, Transcript
from services.core.interviews.states import AnswerState
from services.core.roles.orm import JobRole
from services.core.scoring import review
from services.core.scoring import service as scoring
from services.core.scoring.orm import ScoringRun
from services.core.settings import get_settings
from tests.services.conftest import Org, World, seed_organisation
from tests.services.pipeline import FINAL, SPEECH, RealWorker, upload, wait_for_state


def _transcribed(org: Org) -> str:
    """Org a's seeded answer, as if the worker had transcribed it."""
    with unit_of_work() as session:
        answer = session.get(Answer, org.answer_id)
        assert answer is not None
        answer.state, answer.state_changed_at = AnswerState.TRANSCRIBED, utcnow()
        session.add(Transcript(org_id=org.org_id, answer_id=answer.id, asr_version="test-asr",
                               text="I phoned the client that afternoon.", language="en",
                               language_probability=0.99, words=[], speech_regions=[],
                               quality_flags=[], processing_seconds=0.1))
    return org.answer_id


def test_a_consented_transcribed_answer_may_be_scored(world: World) -> None:
    answer_id = _transcribed(world.a)

    with unit_of_work() as session:
        assert scoring.may_score(session, answer_id=answer_id)
        target = scoring.claim(session, answer_id=answer_id, model_version="m1",
                               stale_after=dt.timedelta(minutes=15))
        again = scoring.claim(session, answer_id=answer_id, model_version="m1",
                              stale_after=dt.timedelta(minutes=15))
    assert target is not None and target.names_to_redact == ("Cand a",)
    assert again is None  # one run per (answer, model version)


def test_no_scoring_without_consent_to_the_current_notice(world: World) -> None:
    answer_id = _transcribed(world.a)
    with unit_of_work() as session:
        for consent in session.scalars(select(Consent)):
            consent.notice_version = "2020-old"

    with unit_of_work() as session:
        assert not scoring.may_score(session, answer_id=answer_id)
        assert scoring.claim(session, answer_id=answer_id, model_version="m1",
                             stale_after=dt.timedelta(0)) is None
        assert scoring.unscored(session, model_version="m1", settled_before=utcnow()) == []


def test_no_scoring_while_the_role_has_ai_scoring_paused(world: World) -> None:
    answer_id = _transcribed(world.a)
    with unit_of_work() as session:
        role = session.get(JobRole, world.a.role_id)
        assert role is not None
        role.ai_scoring_paused = True

    with unit_of_work() as session:
        assert not scoring.may_score(session, answer_id=answer_id)


def test_bands_follow_the_roles_levels() -> None:
    from services.core.roles.orm import CompetencyThreshold

    threshold = CompetencyThreshold(competency_key="c", required_level=3, exceeds_level=4)

    assert [scoring.band(v, threshold) for v in (49.9, 50.0, 74.9, 75.0)] == [
        "below", "meets", "meets", "exceeds"
    ]
    assert scoring.band(80.0, None) is None


def _wait_for_scores(answer_id: str, timeout: float = 240) -> list[Score]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with unit_of_work() as session:
            scores = list(session.scalars(select(Score).where(Score.answer_id == answer_id)))
            run = session.scalar(select(ScoringRun).where(ScoringRun.answer_id == answer_id))
        if scores or (run is not None and run.state == scoring.FAILED):
            assert run is not None and run.state == scoring.SCORED, run.failure_reason
            return scores
        time.sleep(0.5)
    raise AssertionError(f"answer {answer_id} was not scored within {timeout} s")


@pytest.mark.slow
def test_a_real_worker_scores_a_transcribed_answer_once_with_evidence(stack: RealWorker) -> None:
    stack.start()
    org = seed_organisation("a")
    client = TestClient(create_app())
    answer_id = upload(client, org.invite_token, org.question_ids[1],
                       (SPEECH / "jfk.flac").read_bytes(), "audio/flac")
    assert wait_for_state(answer_id, FINAL).state.value == "transcribed"

    (score,) = _wait_for_scores(answer_id)
    publisher = CeleryPublisher(get_settings())
    publisher.publish(jobs.SCORE_ANSWER, answer_id)
    publisher.publish(jobs.SCORE_ANSWER, answer_id)
    time.sleep(3)  # both duplicates are handled by the single worker process by then

    with unit_of_work() as session:
        transcript = session.scalars(select(Transcript)).one()
        scores = list(session.scalars(select(Score).where(Score.answer_id == answer_id)))
        runs = list(session.scalars(select(ScoringRun)))
        logged = [e for e in session.scalars(select(AuditEvent))
                  if e.action == "answer.scored"]
    assert len(scores) == 1 and len(runs) == 1 and len(logged) == 1
    assert score.model_version.startswith("parley-seed-") and 0 <= score.value <= 100
    assert score.asr_version == transcript.asr_version and score.level is not None
    assert score.rubric_version_id
    for quote in score.evidence:
        assert quote["start"] is not None and quote["start"] <= quote["end"]
    data = logged[0].data
    assert {"audio_sha256", "asr_version", "model_version", "scores", "bands"} <= set(data)


def test_a_new_model_version_rescores_everything_and_old_scores_stay(world: World) -> None:
    answer_id = _transcribed(world.a)
    record = scoring.ScoreRecord(competency_key="communication", value=62.5, level=3.5, gates=[])
    settled = utcnow() + dt.timedelta(seconds=1)
    with unit_of_work() as session:
        target = scoring.claim(session, answer_id=answer_id, model_version="m1",
                               stale_after=dt.timedelta(minutes=15))
        assert target is not None
        scoring.save_scores(session, target=target, model_version="m1", records=[record])
    with unit_of_work() as session:
        assert scoring.unscored(session, model_version="m1", settled_before=settled) == []
        pending = scoring.unscored(session, model_version="m2", settled_before=settled)
    assert pending == [answer_id]  # the re-score after a promotion finds it again

    with unit_of_work() as session:
        target = scoring.claim(session, answer_id=answer_id, model_version="m2",
                               stale_after=dt.timedelta(minutes=15))
        assert target is not None
        scoring.save_scores(session, target=target, model_version="m2",
                            records=[scoring.ScoreRecord("communication", 40.0, 2.6, [])])
    with unit_of_work() as session:
        versions = sorted(s.model_version for s in session.scalars(select(Score)))
        newest = review.scores_of(session, answer_ids=[answer_id])[answer_id]
        assert scoring.unscored(session, model_version="m2", settled_before=settled) == []
    assert versions == ["m1", "m2"]  # the first model's score is kept for the audit
    assert [s.model_version for s in newest] == ["m2"]


def test_a_crashed_run_is_taken_over_only_once_it_is_stale(world: World) -> None:
    answer_id = _transcribed(world.a)
    with unit_of_work() as session:
        assert scoring.claim(session, answer_id=answer_id, model_version="m1",
                             stale_after=dt.timedelta(minutes=15)) is not None
    with unit_of_work() as session:
        fresh = scoring.claim(session, answer_id=answer_id, model_version="m1",
                              stale_after=dt.timedelta(minutes=15))
        stale = scoring.claim(session, answer_id=answer_id, model_version="m1",
                              stale_after=dt.timedelta(0))
        run = session.scalars(select(ScoringRun)).one()
    assert fresh is None and stale is not None and run.attempts == 2
