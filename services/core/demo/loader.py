"""The demo organisation: staff, a rubric, six questions, a role, and candidates whose
synthesised spoken answers go through the real upload and transcription pipeline."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.core.db import unit_of_work
from services.core.interviews import candidate, invitations
from services.core.jobs import JobPublisher
from services.core.organisations import service as organisations
from services.core.organisations.orm import Organisation, StaffRole
from services.core.roles import service as roles
from services.core.rubrics import service as rubrics
from services.core.settings import get_settings
from services.core.storage import get_storage

DATA = Path(__file__).parent / "data"
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
    lines = [f"Demo organisation '{doc['organisation']['name']}'. Sign in at /staff/ with:"]
    lines += [f"  {who:<13} {staff_email(slug, who)}  password: {password}" for who, _, _ in STAFF]
    lines.append(
        "Demo candidates' answers are synthesised speech (see services/core/demo/data/README.md)."
    )
    return "\n".join(lines)


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
