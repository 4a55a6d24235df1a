"""A candidate's data rights: the download, deletion with everything derived from it, a person's
review, and the retention period, on the real database and, for the purge, a real worker."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import JSON, String, select, update

from services.api.app import create_app
from services.api.publisher import CeleryPublisher
from services.core import jobs, security
from services.core.audit import service as audit
from services.core.audit.orm import AuditEvent
from services.core.db import get_engine, unit_of_work, utcnow
from services.core.interviews import candidate, invitations, media
from services.core.interviews.orm import Answer, Interview, Invitation, Transcript
from services.core.interviews.states import AnswerState, InterviewState
from services.core.organisations.orm import Organisation
from services.core.orm import Base
from services.core.scoring import service as scoring
from services.core.settings import Settings, get_settings
from services.core.storage import get_storage
from services.worker import privacy as purging
from tests.services.conftest import Org, RecordingPublisher, World, seed_organisation, tone_wav
from tests.services.pipeline import RealWorker, upload

NAME, EMAIL = "Zoë Quartermaine", "zoe.quartermaine@example.org"
RECORDING = tone_wav(1.3)  # unlike the seeded answers' recordings, so a scan can tell them apart
SPOKEN = f"My name is {NAME}. I phoned the client that afternoon and told them the truth."
QUOTE = "I phoned the client that afternoon and told them the truth."


@dataclass
class Person:
    interview_id: str
    token: str
    answer_ids: list[str]


def _invite(org: Org, *, name: str = NAME, email: str = EMAIL) -> tuple[str, str]:
    with unit_of_work(org_id=org.org_id) as session:
        issued = invitations.invite_candidate(
            session, org_id=org.org_id, actor_id=None, role_id=org.role_id, name=name,
            email=email, ttl_days=7,
        )
        candidate.record_consent(
            session, interview=issued.interview, accepted=True,
            notice_version=candidate.NOTICE_VERSION, client="Mozilla/5.0 (test)",
        )
        return issued.interview.id, issued.token


def _transcribe_and_score(answer_id: str) -> None:
    """What the worker would store for the answer: its transcript and a score with evidence."""
    with unit_of_work() as session:
        answer = session.get(Answer, answer_id)
        assert answer is not None
        answer.state, answer.state_changed_at = AnswerState.TRANSCRIBED, utcnow()
        answer.duration_seconds = 1.3
        session.add(Transcript(
            org_id=answer.org_id, answer_id=answer.id, asr_version="test-asr", text=SPOKEN,
            language="en", language_probability=0.99,
            words=[{"start": 0.0, "end": 0.4, "text": "My", "probability": 0.9}],
            speech_regions=[[0.0, 1.3]], quality_flags=[], processing_seconds=0.1,
        ))
    with unit_of_work() as session:
        target = scoring.claim(session, answer_id=answer_id, model_version="m1",
                               stale_after=dt.timedelta(minutes=15))
        assert target is not None
        evidence = [{"text": QUOTE, "weight": 4.0, "start": 0.5, "end": 1.2, "start_char": 0,
                     "end_char": len(QUOTE)}]
        scoring.save_scores(session, target=target, model_version="m1", records=[
            scoring.ScoreRecord("communication", 62.5, 3.5, [], evidence)])


def _complete_person(world: World) -> Person:
    """A candidate with everything there is to hold: a scored recording, a typed answer, a
    finished interview, self-identification, accommodations, a decision, a review request."""
    org = world.a
    interview_id, token = _invite(org)
    client = world.candidate(org)
    client.headers["X-Invite-Token"] = token
    recorded = upload(client, token, org.question_ids[0], RECORDING, "audio/wav")
    _transcribe_and_score(recorded)
    recruiter = world.staff(org, "recruiter")
    response = recruiter.put(f"/api/v1/interviews/{interview_id}/accommodations", json={
        "typed_answers": True, "reason": f"{NAME} asked to type ({EMAIL})."})
    assert response.status_code == 200, response.text
    response = client.post(f"/api/v1/candidate/answers/{org.question_ids[1]}/text",
                           json={"text": f"I am {NAME}; I found the hidden cause."})
    assert response.status_code == 201, response.text
    typed = response.json()["answer_id"]
    assert client.post("/api/v1/candidate/finish").status_code == 200
    response = client.post("/api/v1/candidate/self-identification",
                           json={"sex": "female", "age_band": "25_39"})
    assert response.status_code == 204, response.text
    response = recruiter.post(f"/api/v1/interviews/{interview_id}/decisions", json={
        "status": "in_review", "reason": f"{NAME} gave a concrete example.",
        "viewed": ["transcript"]})
    assert response.status_code == 201, response.text
    assert recruiter.get(f"/api/v1/answers/{recorded}/media").status_code == 200
    response = client.post("/api/v1/candidate/human-review", json={"message": f"From {NAME}"})
    assert response.status_code == 201, response.text
    # A chunk whose clean-up after the commit was lost: deletion must find it all the same.
    get_storage().put(media.chunk_key(recorded, 7), b"left over")
    return Person(interview_id, token, [recorded, typed])


def _download(client: TestClient) -> zipfile.ZipFile:
    response = client.get("/api/v1/candidate/data")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment;")
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_download_holds_recordings_transcripts_scores_and_the_explanation(
    world: World,
) -> None:
    person = _complete_person(world)
    client = world.client()
    client.headers["X-Invite-Token"] = person.token

    archive = _download(client)
    names = set(archive.namelist())
    assert {"explanation.md", "my-data.json", "recordings/question-1.wav",
            "transcripts/question-1.txt", "transcripts/question-2.txt"} <= names
    assert archive.read("recordings/question-1.wav") == RECORDING
    assert SPOKEN in archive.read("transcripts/question-1.txt").decode()

    data = json.loads(archive.read("my-data.json"))
    assert data["candidate"] == {"name": NAME, "email": EMAIL}
    first, second = data["answers"]
    assert first["transcript"]["words"][0]["text"] == "My"
    (score,) = first["scores"]
    assert score["score"] == 62.5 and score["band"] == "meets"
    assert score["model_version"] == "m1" and score["asr_version"] == "test-asr"
    assert score["rubric_version_id"] == world.a.rubric_version_id
    assert second["typed"] and second["recording"] is None
    assert second["transcript"]["asr_version"] == "typed"
    assert data["consents"][0]["accepted"] is True
    assert data["decisions"][0]["to"] == "in_review"
    assert data["self_identification"] == {"sex": "female", "race_ethnicity": None,
                                           "age_band": "25_39"}
    assert data["results"]["scoring_model"]["calibrated"] is False

    text = archive.read("explanation.md").decode()
    for expected in ("Communication", "meets the level the role asks for", QUOTE,
                     "only the words of that transcript", "never** listens to your voice",
                     "accent", "uncalibrated demo model", "People make every decision"):
        assert expected in text, expected

    with unit_of_work() as session:
        logged = [e for e in session.scalars(select(AuditEvent))
                  if e.action == "candidate.data_exported"]
    assert [e.subject for e in logged] == [f"interview:{person.interview_id}"]
    assert logged[0].actor == f"candidate:{person.interview_id}"


def test_typed_and_unprocessed_answers_and_a_take_not_kept_do_not_break_the_download(
    sqlite_world: World,
) -> None:
    org = sqlite_world.a
    with unit_of_work() as session:
        session.execute(update(Interview).values(typed_answers=True))
    client = sqlite_world.candidate(org)
    chunk = client.put(f"/api/v1/candidate/answers/{org.question_ids[1]}/chunks/0",
                       content=b"x" * 10, headers={"Content-Type": "audio/wav",
                                                   "X-Chunk-SHA256": security.token_hash("x" * 10)})
    assert chunk.status_code == 200, chunk.text

    archive = _download(client)
    seeded, not_kept = json.loads(archive.read("my-data.json"))["answers"]
    assert seeded["state"] == "uploaded" and seeded["transcript"] is None
    assert seeded["recording"] == "recordings/question-1.wav" and seeded["scores"] == []
    assert not_kept["state"] == "receiving" and not_kept["transcript"] is None
    assert archive.read("recordings/question-2-not-kept.bin") == b"x" * 10

    typed = client.post(f"/api/v1/candidate/answers/{org.question_ids[1]}/text",
                        json={"text": "I typed this answer."})
    assert typed.status_code == 201, typed.text
    archive = _download(client)
    assert archive.read("transcripts/question-2.txt").decode() == "I typed this answer.\n"
    assert "not been transcribed yet" in archive.read("explanation.md").decode()


def test_a_deletion_request_is_logged_and_shown_to_recruiters_with_its_due_date(
    sqlite_world: World,
) -> None:
    org = sqlite_world.a
    client = sqlite_world.candidate(org)
    before = utcnow()

    first = client.post("/api/v1/candidate/deletion")
    again = client.post("/api/v1/candidate/deletion")

    assert first.status_code == again.status_code == 202
    due = dt.datetime.fromisoformat(first.json()["deletion_due_at"])
    assert dt.timedelta(days=30) <= due - before < dt.timedelta(days=30, minutes=1)
    assert again.json()["deletion_due_at"] == first.json()["deletion_due_at"]  # the first date
    assert client.get("/api/v1/candidate/rights").json()["deletion_due_at"] is not None
    recruiter = sqlite_world.staff(org, "recruiter")
    detail = recruiter.get(f"/api/v1/interviews/{org.interview_id}").json()
    assert detail["data_requests"]["deletion_due_at"] == first.json()["deletion_due_at"]
    (row,) = recruiter.get(f"/api/v1/roles/{org.role_id}/candidates").json()["items"]
    assert row["deletion_due_at"] == first.json()["deletion_due_at"]
    with unit_of_work() as session:
        logged = [e for e in session.scalars(select(AuditEvent))
                  if e.action == "candidate.deletion_requested"]
    assert len(logged) == 1 and logged[0].data["due_at"] == due.isoformat()
    assert jobs.PURGE_INTERVIEW not in {name for name, _ in sqlite_world.publisher.published}


def test_a_human_review_request_is_flagged_to_recruiters_and_logged_without_the_message(
    sqlite_world: World,
) -> None:
    org = sqlite_world.a
    client = sqlite_world.candidate(org)

    response = client.post("/api/v1/candidate/human-review",
                           json={"message": "  Please  have a person\nlook again. "})

    assert response.status_code == 201, response.text
    recruiter = sqlite_world.staff(org, "recruiter")
    requests = recruiter.get(f"/api/v1/interviews/{org.interview_id}").json()["data_requests"]
    assert requests["human_review_message"] == "Please have a person look again."
    assert requests["human_review_requested_at"] is not None
    (row,) = recruiter.get(f"/api/v1/roles/{org.role_id}/candidates").json()["items"]
    assert row["human_review_requested_at"] == requests["human_review_requested_at"]
    with unit_of_work() as session:
        (event,) = [e for e in session.scalars(select(AuditEvent))
                    if e.action == "candidate.human_review_requested"]
    assert event.data == {"with_message": True}


def test_an_expired_link_still_reaches_the_candidates_own_data(sqlite_world: World) -> None:
    org = sqlite_world.a
    with unit_of_work() as session:
        session.execute(update(Invitation).values(
            expires_at=utcnow() - dt.timedelta(days=1)))
    client = sqlite_world.candidate(org)

    assert client.get("/api/v1/candidate/interview").status_code == 410
    assert client.get("/api/v1/candidate/data").status_code == 200
    assert client.post("/api/v1/candidate/deletion").status_code == 202


def _traces(needles: dict[str, str], *, pseudonymous: set[str]) -> list[str]:
    """Every text or JSON value of every row of every table that contains one of the needles.

    The audit log may keep the random ids (`pseudonymous`): with the rows gone, they point at
    nothing. It may never keep a name, an email or a token hash.
    """
    found = []
    with get_engine().connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, JSON))]
            for row in conn.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    text = (value if isinstance(value, str)
                            else json.dumps(value, ensure_ascii=False)).lower()
                    for label, needle in needles.items():
                        allowed = table.name == "audit_events" and label in pseudonymous
                        if needle.lower() in text and not allowed:
                            found.append(f"{table.name}.{column.name} holds the {label}")
    return found


def _files_left(media_dir: Path, person: Person) -> list[str]:
    left = []
    for path in media_dir.rglob("*"):
        if not path.is_file():
            continue
        content = path.read_bytes()
        named = any(a in str(path) for a in person.answer_ids)
        if named or any(s in content for s in (RECORDING[44:], NAME.encode(), EMAIL.encode())):
            left.append(str(path.relative_to(media_dir)))
    return left


def _needles(person: Person) -> dict[str, str]:
    return {
        "name": NAME, "email": EMAIL, "interview id": person.interview_id,
        "invite token hash": security.token_hash(person.token),
        **{f"answer id {i}": a for i, a in enumerate(person.answer_ids)},
    }


def _pseudonymous(person: Person) -> set[str]:
    return {"interview id", *(f"answer id {i}" for i in range(len(person.answer_ids)))}


def test_the_purge_removes_every_trace_from_every_table_and_the_storage_folder(
    world: World,
) -> None:
    person = _complete_person(world)
    client = world.client()
    client.headers["X-Invite-Token"] = person.token
    _download(client)
    due = dt.datetime.fromisoformat(client.post("/api/v1/candidate/deletion").json()[
        "deletion_due_at"])
    media_dir = get_settings().media_dir
    assert media_dir is not None
    assert _files_left(media_dir, person) and _traces(_needles(person), pseudonymous=set())

    assert purging.purge_interview(person.interview_id, now=due - dt.timedelta(days=2)) == (
        "not_due")
    assert purging.purge_interview(person.interview_id, now=due) == "purged"
    assert purging.purge_interview(person.interview_id, now=due) == "not_due"  # once

    assert _traces(_needles(person), pseudonymous=_pseudonymous(person)) == []
    assert _files_left(media_dir, person) == []
    assert get_storage().exists(f"answers/{world.b.answer_id}/answer.wav")  # others' stay
    assert get_storage().exists(f"answers/{world.a.answer_id}/answer.wav")
    with unit_of_work() as session:
        for org in (world.a, world.b):
            assert audit.verify(session, org_id=org.org_id) == []
        assert session.get(Interview, world.a.interview_id) is not None
        (deleted,) = [e for e in session.scalars(select(AuditEvent))
                      if e.action == "candidate.data_deleted"]
    # The whole file, the kept take's chunk (no worker runs its discard task here) and the one
    # left over.
    assert deleted.data == {"reason": "candidate_request", "answers": 2, "files": 3}
    gone = client.get("/api/v1/candidate/interview")
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "invalid_invite"
    assert client.get("/api/v1/candidate/data").status_code == 401


def test_a_purge_waits_while_an_answer_is_being_transcribed(sqlite_world: World) -> None:
    org = sqlite_world.a
    assert sqlite_world.candidate(org).post("/api/v1/candidate/deletion").status_code == 202
    with unit_of_work() as session:
        session.execute(update(Answer).values(state=AnswerState.TRANSCRIBING,
                                              state_changed_at=utcnow()))
    later = utcnow() + dt.timedelta(days=30)

    assert purging.purge_interview(org.interview_id, now=later) == "busy"
    with unit_of_work() as session:
        session.execute(update(Answer).values(state=AnswerState.TRANSCRIBED))
    assert purging.purge_interview(org.interview_id, now=later) == "purged"


def _backdate(interview_id: str, *, invited_days: int, completed_days: int | None) -> None:
    now = utcnow()
    with unit_of_work() as session:
        interview = session.get(Interview, interview_id)
        assert interview is not None
        interview.created_at = now - dt.timedelta(days=invited_days)
        if completed_days is not None:
            interview.state = InterviewState.COMPLETED
            interview.completed_at = now - dt.timedelta(days=completed_days)


def test_retention_purges_only_interviews_past_their_organisations_period(
    sqlite_world: World,
) -> None:
    a, b = sqlite_world.a, sqlite_world.b
    with unit_of_work() as session:
        session.execute(update(Organisation).where(Organisation.id == a.org_id)
                        .values(retention_days=30))
    finished_long_ago = _invite(a, name="Old", email="old@example.org")[0]
    finished_lately = _invite(a, name="Late", email="late@example.org")[0]
    never_finished = _invite(a, name="Gone", email="gone@example.org")[0]
    other_org = b.interview_id  # retention 365 days
    _backdate(finished_long_ago, invited_days=40, completed_days=31)
    _backdate(finished_lately, invited_days=60, completed_days=10)  # counted from completion
    _backdate(never_finished, invited_days=31, completed_days=None)
    _backdate(other_org, invited_days=40, completed_days=None)

    due = purging.due_for_purge()

    assert sorted(due) == sorted([finished_long_ago, never_finished])
    assert [purging.purge_interview(i) for i in due] == ["purged", "purged"]
    with unit_of_work() as session:
        left = set(session.scalars(select(Interview.id)))
        reasons = {e.data["reason"] for e in session.scalars(select(AuditEvent))
                   if e.action == "candidate.data_deleted"}
    assert left == {a.interview_id, finished_lately, other_org}
    assert reasons == {"retention"}


def test_no_retention_period_means_no_automatic_purge(sqlite_world: World) -> None:
    with unit_of_work() as session:
        session.execute(update(Organisation).values(retention_days=0))
    _backdate(sqlite_world.a.interview_id, invited_days=4000, completed_days=3000)

    assert purging.due_for_purge() == []


def test_the_grace_period_can_never_exceed_thirty_days() -> None:
    assert Settings().deletion_grace_days == 30
    with pytest.raises(ValidationError):
        Settings(deletion_grace_days=31)  # type: ignore[call-arg]


def _recorded_without_processing(org: Org, interview_id: str) -> str:
    """A kept recording whose transcription is never queued: the worker only purges here."""
    digest = hashlib.sha256(RECORDING).hexdigest()
    with unit_of_work(org_id=org.org_id) as session:
        interview = session.get(Interview, interview_id)
        assert interview is not None
        common = {"storage": get_storage(), "interview": interview,
                  "question_id": org.question_ids[0]}
        candidate.receive_chunk(session, settings=get_settings(), index=0, data=RECORDING,
                                sha256=digest, content_type="audio/wav", **common)
        answer = candidate.complete_answer(session, publisher=RecordingPublisher(),
                                           chunk_count=1, sha256=digest, **common)
        return answer.id


def _wait_until_gone(interview_id: str, worker: RealWorker, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with unit_of_work() as session:
            if session.get(Interview, interview_id) is None:
                return
        time.sleep(0.5)
    raise AssertionError(f"interview {interview_id} was not purged:\n{worker.log_tail()}")


@pytest.mark.slow
def test_a_real_worker_purges_a_request_at_once_and_the_sweep_enforces_retention(
    stack: RealWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_DELETION_GRACE_DAYS", "0")
    get_settings.cache_clear()
    stack.start()
    org = seed_organisation("a")
    interview_id, token = _invite(org)
    person = Person(interview_id, token, [_recorded_without_processing(org, interview_id)])
    client = TestClient(create_app())
    client.headers["X-Invite-Token"] = token

    assert client.post("/api/v1/candidate/deletion").status_code == 202
    _wait_until_gone(interview_id, stack)

    media_dir = get_settings().media_dir
    assert media_dir is not None and _files_left(media_dir, person) == []
    assert _traces(_needles(person), pseudonymous=_pseudonymous(person)) == []
    assert client.get("/api/v1/candidate/interview").status_code == 401

    old = _invite(org, name="Old", email="old@example.org")[0]
    _backdate(old, invited_days=400, completed_days=None)  # past the default 365 days
    CeleryPublisher(get_settings()).publish(jobs.SWEEP_PRIVACY)
    _wait_until_gone(old, stack)
    with unit_of_work() as session:
        assert session.get(Interview, org.interview_id) is not None
        assert audit.verify(session, org_id=org.org_id) == []
