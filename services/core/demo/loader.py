"""The demo organisation: staff, a rubric, six questions, a role, and candidates whose
synthesised spoken answers go through the real upload and transcription pipeline."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.core import security
from services.core.db import unit_of_work, utcnow
from services.core.interviews import candidate, invitations, speech
from services.core.interviews.orm import Interview, Invitation
from services.core.interviews.states import InterviewState
from services.core.jobs import JobPublisher
from services.core.organisations import service as organisations
from services.core.organisations.orm import Organisation, StaffRole
from services.core.roles import service as roles
from services.core.roles.orm import JobRole
from services.core.rubrics import service as rubrics
from services.core.settings import get_settings
from services.core.storage import get_storage

DATA = Path(__file__).parent / "data"
OPEN_STATES = (InterviewState.INVITED, InterviewState.CONSENTED, InterviewState.IN_PROGRESS)
STAFF = (
    ("admin", StaffRole.ADMIN, "Ada Admin"),
    ("recruiter", StaffRole.RECRUITER, "Rui Recruiter"),
    ("psychologist", StaffRole.PSYCHOLOGIST, "Pia Psychologist"),
)


def content() -> dict[str, Any]:
    return dict(json.loads((DATA / "content.json").read_text(encoding="utf-8")))


def staff_email(slug: str, who: str) -> str:
    return f"{who}@{slug}.example.com"


def load_demo(*, publisher: JobPublisher, password: str) -> str:
    """Create the demo organisation once; return a summary with the sign-in details."""
    doc = content()
    slug = doc["organisation"]["slug"]
    with unit_of_work() as session:
        exists = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if exists is None:
        role_id, org_id = _create_organisation(doc, password)
        for person in doc["candidates"]:
            _interview(person, doc=doc, org_id=org_id, role_id=role_id, publisher=publisher)
    token = _open_demo_invitation(slug, publisher=publisher)
    lines = [f"Demo organisation '{doc['organisation']['name']}'. Sign in at /staff/ with:"]
    lines += [f"  {who:<13} {staff_email(slug, who)}  password: {password}" for who, _, _ in STAFF]
    lines.append(
        "Demo candidates' answers are synthesised speech (see services/core/demo/data/README.md)."
    )
    lines.append(
        "Try the candidate's interview yourself (a phone-sized window works well):\n"
        f"  {get_settings().public_url}/interview/#{token}"
    )
    return "\n".join(lines)


DEMO_INVITEE = {"name": "You (demo candidate)", "email": "you@demo.example.com"}


def demo_token(slug: str, n: int) -> str:
    """The n-th demo invite token: derived from the secret key, so every start can print it."""
    secret = get_settings().secret_key.get_secret_value().encode()
    digest = hmac.new(secret, f"parley-demo-invite:{slug}:{n}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def _open_demo_invitation(slug: str, *, publisher: JobPublisher) -> str:
    """A demo invitation that is still open, issuing the next one once the last is used up."""
    settings = get_settings()
    with unit_of_work() as session:
        org = session.scalar(select(Organisation).where(Organisation.slug == slug))
        assert org is not None
        org_id = org.id
    for n in range(1000):
        token = demo_token(slug, n)
        with unit_of_work(org_id=org_id) as session:
            invitation = session.scalar(
                select(Invitation).where(Invitation.token_hash == security.token_hash(token))
            )
            if invitation is None:
                role = session.scalars(select(JobRole).order_by(JobRole.created_at)).first()
                assert role is not None
                invitations.invite_candidate(
                    session,
                    org_id=org_id,
                    actor_id=None,
                    role_id=role.id,
                    is_synthetic=True,
                    ttl_days=settings.invite_ttl_days,
                    token=token,
                    **DEMO_INVITEE,
                )
                # The avatar's lines, spoken ahead so the first visit has its voice.
                speech.prepare_role(
                    session,
                    storage=get_storage(),
                    publisher=publisher,
                    voice=settings.tts_voice,
                    role=role,
                )
                return token
            interview = session.scalar(
                select(Interview).where(Interview.invitation_id == invitation.id)
            )
            still_open = interview is not None and interview.state in OPEN_STATES
            if still_open and invitation.expires_at > utcnow():
                return token
    raise RuntimeError("no demo invitation left: delete var/ to start over")


def _create_organisation(doc: dict[str, Any], password: str) -> tuple[str, str]:
    with unit_of_work() as session:
        org = organisations.create_organisation(
            session,
            name=doc["organisation"]["name"],
            slug=doc["organisation"]["slug"],
            contact_email=f"talent@{doc['organisation']['slug']}.example.com",
        )
        for who, staff_role, name in STAFF:
            organisations.create_user(
                session,
                org_id=org.id,
                email=staff_email(org.slug, who),
                name=name,
                role=staff_role,
                password=password,
            )
        version = rubrics.import_rubric(session, org_id=org.id, document=doc["rubric"])
        questions = [
            roles.add_question(
                session, org_id=org.id, key=q["key"], competency_key=q["competency"], text=q["text"]
            )
            for q in doc["questions"]
        ]
        spec = doc["role"]
        role = roles.create_role(
            session,
            org_id=org.id,
            actor="system",
            title=spec["title"],
            description=spec["description"],
            rubric_version_id=version.id,
            question_ids=[q.id for q in questions],
            retakes=spec["retakes"],
            think_seconds=doc["questions"][0]["think_seconds"],
            answer_seconds=doc["questions"][0]["answer_seconds"],
            thresholds=[
                roles.Threshold(key, t["required"], t["exceeds"])
                for key, t in spec["thresholds"].items()
            ],
        )
        return role.id, org.id


def _interview(
    person: dict[str, Any],
    *,
    doc: dict[str, Any],
    org_id: str,
    role_id: str,
    publisher: JobPublisher,
) -> None:
    """Invite, consent and upload every answer, exactly as a candidate's browser would."""
    settings = get_settings()
    with unit_of_work(org_id=org_id) as session:
        issued = invitations.invite_candidate(
            session,
            org_id=org_id,
            actor_id=None,
            role_id=role_id,
            name=person["name"],
            email=person["email"],
            ttl_days=settings.invite_ttl_days,
            is_synthetic=True,
        )
        candidate.record_consent(
            session,
            interview=issued.interview,
            accepted=True,
            notice_version=candidate.NOTICE_VERSION,
            client="demo loader",
        )
    keys = {q["key"]: q for q in doc["questions"]}
    for key in keys:
        audio = (DATA / "audio" / person["key"] / f"{key}.ogg").read_bytes()
        with unit_of_work(org_id=org_id) as session:
            interview = invitations.open_interview(session, token=issued.token)
            question_id = next(
                i.question_id
                for i in candidate.script_of(session, interview=interview)
                if i.question.key == key
            )
            digest = hashlib.sha256(audio).hexdigest()
            candidate.receive_chunk(
                session,
                settings=settings,
                storage=get_storage(),
                interview=interview,
                question_id=question_id,
                index=0,
                data=audio,
                sha256=digest,
                content_type="audio/ogg",
            )
            candidate.complete_answer(
                session,
                storage=get_storage(),
                publisher=publisher,
                interview=interview,
                question_id=question_id,
                chunk_count=1,
                sha256=digest,
            )
    with unit_of_work(org_id=org_id) as session:
        candidate.finish_interview(
            session, interview=invitations.open_interview(session, token=issued.token)
        )
