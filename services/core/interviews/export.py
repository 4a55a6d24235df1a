"""The download of everything held about a candidate: a zip of their recordings, transcripts,
scores with their versions, consents, decisions, the CV and notes recruiters keep, and the
plain-words explanation."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.audit.orm import AuditEvent
from services.core.db import utcnow
from services.core.errors import Invalid, UnsupportedMedia
from services.core.fairness.orm import SelfIdentification
from services.core.interviews import cv, explanation, media, notes, review
from services.core.interviews.orm import Answer, Consent, Interview, Score, Transcript
from services.core.interviews.privacy import requests_of
from services.core.organisations.orm import Organisation
from services.core.roles.orm import CompetencyThreshold, JobRole, Question
from services.core.rubrics import service as rubrics
from services.core.rubrics.orm import RubricVersion
from services.core.scoring import review as scores
from services.core.scoring.service import band
from services.core.storage import MediaStorage


@dataclass(frozen=True)
class ExportSummary:
    files: int
    recordings: int


def export_data(
    session: Session, *, storage: MediaStorage, interview: Interview, out: IO[bytes]
) -> ExportSummary:
    """Write everything held about the candidate to `out` as a zip, and log the export."""
    data = _collect(session, interview=interview)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        recordings = 0
        for answer, item in zip(interview.answers, data["answers"], strict=True):
            recordings += _write_recording(archive, storage, answer, item)
            if item["transcript"] is not None:
                archive.writestr(f"transcripts/question-{item['question']}.txt",
                                 item["transcript"]["text"] + "\n")
        _write_cv(archive, storage, session, interview, data)
        archive.writestr("explanation.md", explanation.render(data))
        archive.writestr("my-data.json", json.dumps(data, indent=2, ensure_ascii=False, default=str))
        files = len(archive.namelist())
    audit.record(
        session,
        org_id=interview.org_id,
        actor=f"candidate:{interview.id}",
        action="candidate.data_exported",
        subject=f"interview:{interview.id}",
        data={"files": files, "recordings": recordings},
    )
    return ExportSummary(files=files, recordings=recordings)


def _write_recording(
    archive: zipfile.ZipFile, storage: MediaStorage, answer: Answer, item: dict[str, Any]
) -> int:
    """The answer's recording (or the parts of a take not kept yet) into the archive."""
    n = item["question"]
    try:
        if answer.media_key is not None:
            name = f"recordings/question-{n}.{answer.media_key.rsplit('.', 1)[-1]}"
            with storage.local_copy(answer.media_key) as path:
                archive.write(path, name, compress_type=zipfile.ZIP_STORED)
        elif answer.chunks:
            keys = [media.chunk_key(answer.id, c.index) for c in answer.chunks]
            name = f"recordings/question-{n}-not-kept.{_extension(storage, keys[0], answer)}"
            with archive.open(name, "w") as target:
                for key in keys:
                    target.write(storage.get(key))
        else:
            return 0
    except FileNotFoundError:
        item["recording_note"] = "The recording could not be found in storage."
        return 0
    item["recording"] = name
    return 1


def _write_cv(
    archive: zipfile.ZipFile, storage: MediaStorage, session: Session, interview: Interview,
    data: dict[str, Any],
) -> None:
    """The CV recruiters keep, as `cv.pdf`; its name and date are in my-data.json."""
    row = cv.cv_of(session, interview_id=interview.id)
    if row is None:
        return
    try:
        archive.writestr("cv.pdf", storage.get(row.storage_key), compress_type=zipfile.ZIP_STORED)
        data["cv"]["file"] = "cv.pdf"
    except FileNotFoundError:
        data["cv"]["file_note"] = "The CV's file could not be found in storage."


def _extension(storage: MediaStorage, key: str, answer: Answer) -> str:
    try:
        return media.sniff(storage.get(key)[:64], total_size=answer.size_bytes)
    except (Invalid, UnsupportedMedia):
        return "bin"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _collect(session: Session, *, interview: Interview) -> dict[str, Any]:
    """Everything about the candidate, as plain data (my-data.json, and the explanation's facts)."""
    role = session.get(JobRole, interview.role_id)
    organisation = session.get(Organisation, interview.org_id)
    assert role is not None and organisation is not None
    rubric = rubrics.get_version(session, rubric_version_id=role.rubric_version_id)
    answer_scores = scores.scores_of(session, answer_ids=[a.id for a in interview.answers])
    assessed = {item.question.competency_key for item in role.script}
    return {
        "exported_at": utcnow().isoformat(),
        "candidate": {"name": interview.candidate.name, "email": interview.candidate.email},
        "organisation": {"name": organisation.name, "retention_days": organisation.retention_days,
                         "contact_email": organisation.contact_email},
        "role": role.title,
        "interview": {
            "id": interview.id, "state": interview.state.value, "status": interview.status,
            "invited_at": _iso(interview.created_at), "completed_at": _iso(interview.completed_at),
            "accommodations": vars(review.accommodations_of(interview)),
        },
        "requests": {k: _iso(v) if isinstance(v, dt.datetime) else v
                     for k, v in vars(requests_of(interview)).items()},
        "consents": _consents(session, interview),
        "self_identification": _self_identification(session, interview),
        "competencies_assessed": [
            {"key": c.key, "name": c.name, "description": c.description}
            for c in rubric.competencies if c.key in assessed
        ],
        "answers": [_answer(a, item) for a, item in zip(
            interview.answers, _answer_facts(session, interview, role, answer_scores),
            strict=True)],
        "results": _results(session, interview, rubric, answer_scores),
        "decisions": [
            {"at": _iso(d.created_at), "from": d.from_status, "to": d.to_status,
             "reason": d.reason}
            for d in review.decisions_of(session, interview=interview)
        ],
        "cv": _cv(session, interview),
        "notes": [{"at": _iso(n.created_at), "text": n.body}
                  for n in reversed(notes.notes_of(session, interview_id=interview.id))],
        "activity": _activity(session, interview),
    }


def _consents(session: Session, interview: Interview) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Consent).where(Consent.interview_id == interview.id).order_by(Consent.created_at)
    )
    return [{"notice_version": c.notice_version, "accepted": c.accepted,
             "at": _iso(c.created_at), "browser": c.client} for c in rows]


def _results(
    session: Session, interview: Interview, rubric: RubricVersion,
    answer_scores: dict[str, list[Score]],
) -> dict[str, Any]:
    """Per competency against the role's levels, the overall fit, and the versions behind them."""
    names = {c.key: c.name for c in rubric.competencies}
    results = scores.competencies_of(session, interview=interview, scores=answer_scores)
    return {
        "competencies": [{**vars(r), "name": names.get(r.key, r.key)} for r in results],
        "overall_fit": scores.overall_fit(results),
        "scoring_model": vars(scores.model_in_use(session)),
        "rubric": {"name": rubric.rubric.name, "version": rubric.version},
    }


@dataclass(frozen=True)
class _AnswerFacts:
    position: int
    question: Question
    transcript: Transcript | None
    scores: list[Score]
    thresholds: dict[str, CompetencyThreshold]


def _answer_facts(
    session: Session, interview: Interview, role: JobRole, answer_scores: dict[str, list[Score]]
) -> list[_AnswerFacts]:
    transcripts = review.transcripts_of(session, interview=interview)
    questions = review.questions_of(session, interview=interview)
    position = {item.question_id: item.position + 1 for item in role.script}
    thresholds = {t.competency_key: t for t in role.thresholds}
    return [
        _AnswerFacts(position.get(a.question_id, n + 1), questions[a.question_id],
                     transcripts.get(a.id), answer_scores.get(a.id, []), thresholds)
        for n, a in enumerate(interview.answers)
    ]


def _answer(answer: Answer, facts: _AnswerFacts) -> dict[str, Any]:
    transcript = facts.transcript
    return {
        "question": facts.position,
        "question_text": facts.question.text,
        "competency": facts.question.competency_key,
        "state": answer.state.value,
        "typed": answer.content_type == "text/plain",
        "recording": None,
        "duration_seconds": answer.duration_seconds,
        "transcript": None if transcript is None else {
            "text": transcript.text, "language": transcript.language,
            "asr_version": transcript.asr_version, "words": transcript.words,
            "quality_flags": transcript.quality_flags,
        },
        "scores": [
            {"competency": s.competency_key, "score": s.value, "level": s.level,
             "band": band(s.value, facts.thresholds.get(s.competency_key)), "gates": s.gates,
             "evidence": [{"text": e.get("text"), "start": e.get("start"), "end": e.get("end")}
                          for e in s.evidence],
             "model_version": s.model_version, "rubric_version_id": s.rubric_version_id,
             "asr_version": s.asr_version, "scored_at": _iso(s.created_at)}
            for s in facts.scores
        ],
    }


def _cv(session: Session, interview: Interview) -> dict[str, Any] | None:
    row = cv.cv_of(session, interview_id=interview.id)
    if row is None:
        return None
    return {"filename": row.filename, "size_bytes": row.size_bytes,
            "uploaded_at": _iso(row.uploaded_at), "file": None}


def _self_identification(session: Session, interview: Interview) -> dict[str, str | None] | None:
    row = session.scalar(
        select(SelfIdentification).where(SelfIdentification.interview_id == interview.id)
    )
    if row is None:
        return None
    return {"sex": row.sex, "race_ethnicity": row.race_ethnicity, "age_band": row.age_band}


def _activity(session: Session, interview: Interview) -> list[dict[str, str | None]]:
    """When each step about them happened and who took it (the audit log's entries)."""
    subjects = [f"interview:{interview.id}", *(f"answer:{a.id}" for a in interview.answers)]
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.subject.in_(subjects)).order_by(AuditEvent.seq)
    )
    kinds = {"candidate": "you", "user": "a member of staff", "system": "Parley"}
    return [
        {"at": _iso(e.created_at), "action": e.action, "by": kinds.get(e.actor.split(":")[0])}
        for e in events
    ]
