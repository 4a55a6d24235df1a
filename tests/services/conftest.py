"""Two seeded organisations and API clients signed in as each of their staff."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from services.api.app import create_app
from services.core.db import get_engine, new_id, unit_of_work, utcnow
from services.core.demo.loader import content
from services.core.interviews import candidate, invitations
from services.core.interviews.orm import Answer, Interview, Score
from services.core.interviews.states import InterviewState
from services.core.organisations import service as organisations
from services.core.organisations.orm import StaffRole
from services.core.roles import service as roles
from services.core.rubrics import service as rubrics
from services.core.scoring import standings
from services.core.settings import get_settings
from services.core.storage import get_storage
from tests.conftest import REDIS_URL, drop_postgres, fresh_postgres, require_service, reset_caches
from tests.services.pipeline import RealWorker

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "recruiter", "psychologist")


class RecordingPublisher:
    """Stands in for the broker at the process boundary; the pipeline tests use the real one."""

    def __init__(self) -> None:
        self.published: list[tuple[str, tuple[str, ...]]] = []

    def publish(self, task_name: str, *args: str) -> None:
        self.published.append((task_name, args))


def tone_wav(seconds: float = 1.0) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x10" * int(16000 * seconds))
    return buffer.getvalue()


@dataclass
class Org:
    key: str
    org_id: str
    role_id: str
    rubric_version_id: str
    question_ids: list[str]
    interview_id: str
    invite_token: str
    answer_id: str
    emails: dict[str, str] = field(default_factory=dict)


def seed_organisation(key: str) -> Org:
    doc = content()
    with unit_of_work() as session:
        org = organisations.create_organisation(session, name=f"Org {key}", slug=f"org-{key}")
        emails = {}
        for who in ROLES:
            emails[who] = f"{who}@{key}.example.com"
            organisations.create_user(
                session,
                org_id=org.id,
                email=emails[who],
                name=who.title(),
                role=StaffRole(who),
                password=PASSWORD,
            )
        version = rubrics.import_rubric(session, org_id=org.id, document=doc["rubric"])
        questions = [
            roles.add_question(
                session, org_id=org.id, key=q["key"], competency_key=q["competency"], text=q["text"]
            )
            for q in doc["questions"][:2]
        ]
        role = roles.create_role(
            session,
            org_id=org.id,
            actor="system",
            title=f"Role {key}",
            description="",
            rubric_version_id=version.id,
            question_ids=[q.id for q in questions],
            thresholds=[roles.Threshold("communication", 3, 4)],
        )
        issued = invitations.invite_candidate(
            session,
            org_id=org.id,
            actor_id=None,
            role_id=role.id,
            name=f"Cand {key}",
            email=f"cand@{key}.example.com",
            ttl_days=7,
        )
        candidate.record_consent(
            session,
            interview=issued.interview,
            accepted=True,
            notice_version=candidate.NOTICE_VERSION,
            client="test",
        )
        data = tone_wav()
        digest = hashlib.sha256(data).hexdigest()
        receipt = candidate.receive_chunk(
            session,
            settings=get_settings(),
            storage=get_storage(),
            interview=issued.interview,
            question_id=questions[0].id,
            index=0,
            data=data,
            sha256=digest,
            content_type="audio/wav",
        )
        candidate.complete_answer(
            session,
            storage=get_storage(),
            publisher=RecordingPublisher(),
            interview=issued.interview,
            question_id=questions[0].id,
            chunk_count=1,
            sha256=digest,
        )
        return Org(
            key=key,
            org_id=org.id,
            role_id=role.id,
            rubric_version_id=version.id,
            question_ids=[q.id for q in questions],
            interview_id=issued.interview.id,
            invite_token=issued.token,
            answer_id=receipt.answer.id,
            emails=emails,
        )


def add_score(
    session: Session,
    org: Org,
    *,
    value: float,
    level: float = 3.0,
    answer_id: str | None = None,
    model_version: str = "m",
    evidence: list[dict[str, object]] | None = None,
) -> None:
    """A communication score as the worker stores one, for tests that start after scoring."""
    session.add(
        Score(
            id=new_id(),
            org_id=org.org_id,
            answer_id=answer_id or org.answer_id,
            competency_key="communication",
            value=value,
            level=level,
            gates=[],
            rubric_version_id=org.rubric_version_id,
            model_version=model_version,
            asr_version="a",
            evidence=evidence or [],
            created_at=utcnow(),
        )
    )
    session.flush()
    answer = session.get(Answer, answer_id or org.answer_id)
    assert answer is not None
    standings.refresh(session, interview_ids=[answer.interview_id])


def complete_with_score(
    org: Org,
    *,
    value: float,
    level: float = 3.0,
    completed_at: dt.datetime | None = None,
    evidence: list[dict[str, object]] | None = None,
) -> None:
    """The seed interview finished, its first answer scored."""
    with unit_of_work() as session:
        interview = session.get(Interview, org.interview_id)
        assert interview is not None
        interview.state = InterviewState.COMPLETED
        if completed_at is not None:
            interview.completed_at = completed_at
        add_score(session, org, value=value, level=level, evidence=evidence)


def typed_answers(org: Org, texts: list[str], *, question: int = 0) -> list[str]:
    """One consented candidate per text who typed it as their answer to the role's question:
    transcribed answers without Whisper, for tests that start after transcription."""
    ids = []
    with unit_of_work(org_id=org.org_id) as session:
        for n, text in enumerate(texts):
            issued = invitations.invite_candidate(
                session, org_id=org.org_id, actor_id=None, role_id=org.role_id,
                name=f"Typist {n}", email=f"typist{n}@{org.key}.example.com", ttl_days=7,
            )
            issued.interview.typed_answers = True
            candidate.record_consent(session, interview=issued.interview, accepted=True,
                                     notice_version=candidate.NOTICE_VERSION, client="test")
            answer = candidate.submit_typed_answer(
                session, settings=get_settings(), storage=get_storage(),
                interview=issued.interview, question_id=org.question_ids[question], text=text,
            )
            ids.append(answer.id)
    return ids


@dataclass
class World:
    a: Org
    b: Org
    publisher: RecordingPublisher
    app: object

    def client(self) -> TestClient:
        return TestClient(self.app)  # type: ignore[arg-type]

    def staff(self, org: Org, who: str) -> TestClient:
        client = self.client()
        response = client.post(
            "/api/v1/auth/login", json={"email": org.emails[who], "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client

    def candidate(self, org: Org) -> TestClient:
        client = self.client()
        client.headers["X-Invite-Token"] = org.invite_token
        return client


def _world() -> World:
    publisher = RecordingPublisher()
    return World(
        a=seed_organisation("a"),
        b=seed_organisation("b"),
        publisher=publisher,
        app=create_app(publisher=publisher),
    )


@pytest.fixture
def world(database: str) -> World:
    return _world()


@pytest.fixture
def sqlite_world(sqlite_database: str) -> World:
    return _world()


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
def stack(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_template: Path,
    tmp_path: Path,
) -> Iterator[RealWorker]:
    """Parley's database and broker of one kind, and a real worker process (not yet started)."""
    pg_url = None
    if request.param == "embedded":
        shutil.copy(sqlite_template, tmp_path / "parley.sqlite3")
        monkeypatch.setenv("PARLEY_DATABASE_URL", f"sqlite:///{tmp_path / 'parley.sqlite3'}")
    else:
        require_service("Redis", REDIS_URL, 6379, "PARLEY_TEST_REDIS_URL")
        pg_url = fresh_postgres(request.getfixturevalue("postgres_template"))
        monkeypatch.setenv("PARLEY_DATABASE_URL", pg_url)
        monkeypatch.setenv("PARLEY_BROKER_URL", REDIS_URL)
    reset_caches()
    worker = RealWorker(tmp_path / "worker.log")
    yield worker
    worker.stop()
    print(worker.log_tail())
    get_engine().dispose()
    if pg_url:
        drop_postgres(pg_url)
