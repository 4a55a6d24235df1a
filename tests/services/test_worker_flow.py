"""The transcription flow in-process: idempotence, missing media, the sweeper's two outcomes."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from services.core.db import unit_of_work
from services.core.interviews import processing
from services.core.interviews.orm import Answer, Transcript
from services.core.storage import get_storage
from services.worker import transcription
from tests.services.conftest import World


def _state(answer_id: str) -> Answer:
    with unit_of_work() as session:
        answer = session.get(Answer, answer_id)
        assert answer is not None
        return answer


@pytest.mark.slow
def test_running_the_same_transcription_twice_leaves_one_result(sqlite_world: World) -> None:
    answer_id = sqlite_world.a.answer_id
    first = transcription.transcribe_answer(answer_id)
    second = transcription.transcribe_answer(answer_id)
    assert first in {"transcribed", "no_speech"} and second == "skipped"
    with unit_of_work() as session:
        count = session.scalar(
            select(func.count()).select_from(Transcript).where(Transcript.answer_id == answer_id)
        )
    assert count == (1 if first == "transcribed" else 0)
    assert _state(answer_id).attempts == 1


def test_missing_media_fails_the_answer_with_a_reason(sqlite_world: World) -> None:
    answer = _state(sqlite_world.a.answer_id)
    assert answer.media_key
    get_storage().delete(answer.media_key)
    assert transcription.transcribe_answer(answer.id) == "failed"
    failed = _state(answer.id)
    assert failed.state.value == "failed" and failed.failure_code == "media_missing"


def test_the_sweeper_requeues_stuck_answers_and_fails_exhausted_ones(sqlite_world: World) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    stuck, exhausted = sqlite_world.a.answer_id, sqlite_world.b.answer_id
    with unit_of_work() as session:
        session.execute(
            update(Answer)
            .where(Answer.id == stuck)
            .values(state="transcribing", state_changed_at=long_ago, attempts=1)
        )
        session.execute(
            update(Answer)
            .where(Answer.id == exhausted)
            .values(state="transcribing", state_changed_at=long_ago, attempts=3)
        )
    with unit_of_work() as session:
        requeue = processing.sweep(session, stuck_after=dt.timedelta(minutes=15), max_attempts=3)
    assert requeue == [stuck]
    assert _state(exhausted).state.value == "failed"
    assert _state(exhausted).failure_code == "gave_up"
    # The stale claim is taken over by the next delivery; a fresh one would not be.
    with unit_of_work() as session:
        claim = processing.claim_for_transcription(
            session, answer_id=stuck, stale_after=dt.timedelta(minutes=15)
        )
        again = processing.claim_for_transcription(
            session, answer_id=stuck, stale_after=dt.timedelta(minutes=15)
        )
    assert claim is not None and claim.attempts == 2 and again is None
