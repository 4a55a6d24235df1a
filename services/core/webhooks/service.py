"""Webhook endpoints, the events recorded for them, signing, and the log of each attempt.

Core sends nothing: it records one delivery per subscribed endpoint and publishes
`webhook.deliver` after the commit; the worker makes the HTTP request and reports back here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from services.core import jobs
from services.core.audit import service as audit
from services.core.db import insert_unless_present, new_id, utcnow
from services.core.errors import Invalid, NotFound
from services.core.interviews.orm import Answer, Interview, Score
from services.core.interviews.states import ANSWER_DONE, AnswerState, InterviewState
from services.core.roles.orm import JobRole
from services.core.security import new_token
from services.core.webhooks.orm import WebhookDelivery, WebhookEndpoint

INTERVIEW_COMPLETED = "interview.completed"
INTERVIEW_SCORED = "interview.scored"
PING = "ping"
EVENTS = (INTERVIEW_COMPLETED, INTERVIEW_SCORED)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

# Seconds to wait after the 1st, 2nd, ... failed attempt; the last repeats if more are allowed.
RETRY_DELAYS: tuple[float, ...] = (30, 120, 600, 3600, 6 * 3600)
# How long a claimed attempt holds its delivery; past it the sweeper hands it out again.
ATTEMPT_LEASE = dt.timedelta(minutes=2)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Parley-Signature` value: HMAC-SHA256 of "<timestamp>.<body>" under the secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_signature(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver runs on the raw body: True only for Parley's signature of exactly it."""
    return hmac.compare_digest(signature(secret, timestamp, body).encode(), header.encode())


def body_of(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def _check_url(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # reading the port checks it: a number from 0 to 65535
    except ValueError as exc:  # that, or an IPv6 host without its closing "]"
        raise Invalid(f"This webhook URL cannot be read: {exc}.", code="invalid_url") from exc
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise Invalid("A webhook URL must be an http or https address.", code="invalid_url")
    return parts.geturl()


def create_endpoint(
    session: Session, *, org_id: str, actor: str, url: str, events: Sequence[str]
) -> WebhookEndpoint:
    """Register an endpoint with a new random secret (returned on the row, shown once)."""
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise Invalid("Choose one or more known events.", code="unknown_event", events=unknown)
    endpoint = WebhookEndpoint(
        org_id=org_id, url=_check_url(url), secret=new_token(), events=sorted(set(events))
    )
    session.add(endpoint)
    session.flush()
    audit.record(session, org_id=org_id, actor=actor, action="webhook.created",
                 subject=f"webhook:{endpoint.id}",
                 data={"url": endpoint.url, "events": endpoint.events})
    return endpoint


def endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at)))


def endpoint(session: Session, *, endpoint_id: str) -> WebhookEndpoint:
    found = session.get(WebhookEndpoint, endpoint_id)
    if found is None:
        raise NotFound("No such webhook.")
    return found


def deactivate_endpoint(session: Session, *, actor: str, endpoint_id: str) -> WebhookEndpoint:
    """Stop sending to an endpoint; its delivery log stays."""
    found = endpoint(session, endpoint_id=endpoint_id)
    if found.active:
        found.active = False
        audit.record(session, org_id=found.org_id, actor=actor, action="webhook.deactivated",
                     subject=f"webhook:{found.id}", data={"url": found.url})
    return found


def deliveries(session: Session, *, endpoint_id: str, limit: int) -> list[WebhookDelivery]:
    """The endpoint's delivery log, newest first."""
    endpoint(session, endpoint_id=endpoint_id)
    return list(session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
        .limit(limit)
    ))


def _record(
    session: Session, *, publisher: jobs.JobPublisher | None, targets: Sequence[WebhookEndpoint],
    org_id: str, event: str, event_key: str, data: dict[str, object],
) -> list[str]:
    now = utcnow()
    recorded = []
    for target in targets:
        delivery_id = new_id()
        payload = {"event": event, "delivery_id": delivery_id, "occurred_at": now.isoformat(),
                   "organisation_id": org_id, "data": data}
        if insert_unless_present(
            session, WebhookDelivery.__table__,
            {"id": delivery_id, "org_id": org_id, "endpoint_id": target.id, "event": event,
             "event_key": event_key, "payload": payload, "attempts": 0, "state": PENDING,
             "next_attempt_at": now, "created_at": now},
            key=["endpoint_id", "event_key"],
        ):
            recorded.append(delivery_id)
            if publisher is not None:  # without one, the sweeper publishes it
                jobs.publish_after_commit(session, publisher, jobs.DELIVER_WEBHOOK, delivery_id)
    return recorded


def record_event(
    session: Session, *, publisher: jobs.JobPublisher | None, org_id: str, event: str,
    event_key: str, data: dict[str, object],
) -> list[str]:
    """One delivery per active endpoint subscribed to `event`, once per `event_key`."""
    subscribed = [
        e for e in session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.org_id == org_id, WebhookEndpoint.active.is_(True))
            .execution_options(include_all_organisations=True)
        )
        if event in e.events
    ]
    return _record(session, publisher=publisher, targets=subscribed, org_id=org_id,
                   event=event, event_key=event_key, data=data)


def send_ping(
    session: Session, *, publisher: jobs.JobPublisher, endpoint_id: str
) -> WebhookDelivery:
    """A `ping` to one endpoint, whatever it subscribes to, to test the receiver."""
    found = endpoint(session, endpoint_id=endpoint_id)
    if not found.active:
        raise Invalid("This webhook is no longer active.", code="webhook_inactive")
    [delivery_id] = _record(session, publisher=publisher, targets=[found], org_id=found.org_id,
                            event=PING, event_key=f"{PING}:{new_id()}", data={})
    delivery = session.get(WebhookDelivery, delivery_id)
    assert delivery is not None
    return delivery


def _interview_data(session: Session, interview: Interview) -> dict[str, object]:
    """Ids only: the ATS maps them; no name, email or words of the candidate leave Parley."""
    role = session.get(JobRole, interview.role_id)
    assert role is not None
    return {"role_id": role.id, "role_title": role.title, "interview_id": interview.id,
            "candidate_id": interview.candidate_id, "state": interview.state.value}


def interview_completed(
    session: Session, *, publisher: jobs.JobPublisher | None, interview: Interview
) -> list[str]:
    """`interview.completed`, and `interview.scored` too if every answer was scored already."""
    data = {**_interview_data(session, interview),
            "completed_at": interview.completed_at.isoformat() if interview.completed_at else None}
    recorded = record_event(session, publisher=publisher, org_id=interview.org_id,
                            event=INTERVIEW_COMPLETED, event_key=f"{INTERVIEW_COMPLETED}:"
                            f"{interview.id}", data=data)
    version = session.scalar(
        select(Score.model_version).join(Answer, Answer.id == Score.answer_id)
        .where(Answer.interview_id == interview.id).order_by(Score.created_at.desc()).limit(1)
    )
    if version is not None:
        recorded += interview_scored(session, publisher=publisher, interview_id=interview.id,
                                     model_version=version)
    return recorded


def _fully_scored(session: Session, interview: Interview, model_version: str) -> bool:
    answers = list(session.scalars(select(Answer).where(Answer.interview_id == interview.id)))
    if interview.state != InterviewState.COMPLETED or any(
        a.state not in ANSWER_DONE for a in answers
    ):
        return False
    scoreable = {a.id for a in answers if a.state == AnswerState.TRANSCRIBED}
    scored = session.scalar(
        select(func.count(func.distinct(Score.answer_id)))
        .where(Score.answer_id.in_(scoreable), Score.model_version == model_version)
    ) if scoreable else 0
    return bool(scoreable) and scored == len(scoreable)


def interview_scored(
    session: Session, *, publisher: jobs.JobPublisher | None, interview_id: str,
    model_version: str,
) -> list[str]:
    """`interview.scored` once per interview and model version, when its last answer is scored.

    Run it after the scores' own commit: of two answers scored at once, the later check sees both.
    """
    # Imported here: scoring's modules import interviews.candidate, which imports this one.
    from services.core.scoring import review

    interview = session.get(Interview, interview_id)
    if interview is None or not _fully_scored(session, interview, model_version):
        return []
    answer_ids = session.scalars(select(Answer.id).where(Answer.interview_id == interview.id))
    results = review.competencies_of(
        session, interview=interview, scores=review.scores_of(session, answer_ids=answer_ids)
    )
    data = {
        **_interview_data(session, interview),
        "model_version": model_version,
        "overall_fit": review.overall_fit(results),
        "competencies": [{"key": r.key, "score": r.score, "band": r.band} for r in results],
    }
    return record_event(session, publisher=publisher, org_id=interview.org_id,
                        event=INTERVIEW_SCORED,
                        event_key=f"{INTERVIEW_SCORED}:{interview.id}:{model_version}", data=data)


@dataclass(frozen=True)
class Attempt:
    """What the worker needs for one HTTP attempt."""

    delivery_id: str
    event: str
    url: str
    secret: str
    body: bytes
    number: int


def claim_attempt(session: Session, *, delivery_id: str) -> Attempt | None:
    """Take a pending, due delivery for one attempt; None if done, not due, or held elsewhere."""
    now = utcnow()
    taken = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.state == PENDING,
               or_(WebhookDelivery.next_attempt_at.is_(None),
                   WebhookDelivery.next_attempt_at <= now))
        .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=now + ATTEMPT_LEASE)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
    assert delivery is not None
    target = session.get(WebhookEndpoint, delivery.endpoint_id)
    assert target is not None
    return Attempt(delivery.id, delivery.event, target.url, target.secret,
                   body_of(delivery.payload), delivery.attempts)


def record_attempt(
    session: Session, *, delivery_id: str, status_code: int | None, error: str | None,
    max_attempts: int, delays: Sequence[float] = RETRY_DELAYS,
) -> float | None:
    """Log one attempt's outcome; the seconds until the next attempt, or None when settled."""
    delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
    assert delivery is not None
    now = utcnow()
    delivery.last_status_code, delivery.last_error = status_code, error
    if error is None and status_code is not None and 200 <= status_code < 300:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = DELIVERED, now, None
        return None
    if delivery.attempts >= max_attempts:
        delivery.state, delivery.next_attempt_at = FAILED, None
        return None
    delay = float(delays[min(delivery.attempts, len(delays)) - 1]) if delays else 0.0
    delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
    return delay


def due_deliveries(session: Session, *, limit: int = 500) -> list[str]:
    """Pending deliveries whose next attempt is due: the sweeper's backstop for lost messages."""
    return list(session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.state == PENDING, WebhookDelivery.next_attempt_at <= utcnow())
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
        .execution_options(include_all_organisations=True)
    ))
