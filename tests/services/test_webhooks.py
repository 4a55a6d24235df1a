"""Signed webhooks to a real local receiver: signature, retries, the log, once-only scoring."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import delete, select, update

from services.api.publisher import CeleryPublisher
from services.core import jobs
from services.core.db import unit_of_work, utcnow
from services.core.interviews.orm import Answer, Interview
from services.core.settings import get_settings
from services.core.webhooks import service as webhooks
from services.core.webhooks.orm import WebhookDelivery
from services.worker import scoring as scoring_flow
from services.worker import webhooks as flow
from tests.services.conftest import (
    Org,
    RecordingPublisher,
    World,
    add_score,
    seed_organisation,
    tone_wav,
    typed_answers,
)
from tests.services.pipeline import RealWorker

NO_WAIT = (0.0,) * 5


@dataclass
class Receiver:
    """An ATS stand-in on 127.0.0.1 that records each request and fails the first `fail_first`."""

    fail_first: int = 0
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((dict(self.headers.items()), body))
            failing = len(state.requests) <= state.fail_first
            self.send_response(500 if failing else 204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/parley"
    yield state
    server.shutdown()
    server.server_close()


def _endpoint(org: Org, url: str, events: tuple[str, ...] = webhooks.EVENTS) -> tuple[str, str]:
    with unit_of_work() as session:
        created = webhooks.create_endpoint(
            session, org_id=org.org_id, actor="system", url=url, events=events
        )
        return created.id, created.secret


def _delivery(delivery_id: str) -> WebhookDelivery:
    with unit_of_work() as session:
        found = session.get(WebhookDelivery, delivery_id)
        assert found is not None
        return found


def _finish_interview(world: World, org: Org) -> None:
    """The candidate records the second question and finishes, through the API."""
    client = world.candidate(org)
    chunk = tone_wav(1.0)
    digest = hashlib.sha256(chunk).hexdigest()
    q1 = org.question_ids[1]
    put = client.put(f"/api/v1/candidate/answers/{q1}/chunks/0", content=chunk,
                     headers={"Content-Type": "audio/wav", "X-Chunk-SHA256": digest})
    assert put.status_code == 200, put.text
    done = client.post(f"/api/v1/candidate/answers/{q1}/complete",
                       json={"chunk_count": 1, "sha256": digest})
    assert done.status_code == 200, done.text
    finished = client.post("/api/v1/candidate/finish")
    assert finished.status_code == 200, finished.text


def _published_deliveries(world: World) -> list[str]:
    return [args[0] for name, args in world.publisher.published if name == jobs.DELIVER_WEBHOOK]


def test_the_signature_verifies_with_the_secret_and_fails_for_a_tampered_body(
    world: World, receiver: Receiver
) -> None:
    admin = world.staff(world.a, "admin")
    created = admin.post("/api/v1/webhooks", json={"url": receiver.url,
                                                   "events": ["interview.completed"]})
    assert created.status_code == 201, created.text
    hook, secret = created.json()["id"], created.json()["secret"]
    assert "secret" not in admin.get("/api/v1/webhooks").json()[0]
    ping = admin.post(f"/api/v1/webhooks/{hook}/test")
    assert ping.status_code == 202, ping.text
    assert flow.deliver(ping.json()["id"]) == ("delivered", None)

    [(headers, body)] = receiver.requests
    assert headers["X-Parley-Event"] == "ping"
    assert headers["X-Parley-Delivery"] == ping.json()["id"]
    timestamp, signed = headers["X-Parley-Timestamp"], headers["X-Parley-Signature"]
    assert webhooks.verify_signature(secret, timestamp, body, signed)
    tampered = body.replace(b'"ping"', b'"pong"')
    assert not webhooks.verify_signature(secret, timestamp, tampered, signed)
    assert not webhooks.verify_signature(secret, str(int(timestamp) + 1), body, signed)
    assert not webhooks.verify_signature("another secret", timestamp, body, signed)
    log = admin.get(f"/api/v1/webhooks/{hook}/deliveries?limit=10").json()
    assert [(d["event"], d["state"], d["attempts"], d["last_status_code"]) for d in log] == [
        ("ping", "delivered", 1, 204)
    ]


def test_registration_refuses_non_http_urls_and_deletion_deactivates(world: World) -> None:
    admin = world.staff(world.a, "admin")
    for url in ("ftp://ats.example.com/x", "file:///etc/passwd", "javascript:alert(1)//x"):
        refused = admin.post("/api/v1/webhooks", json={"url": url, "events": ["interview.scored"]})
        assert refused.status_code == 422, (url, refused.text)
    hook = admin.post("/api/v1/webhooks", json={"url": "https://ats.example.com/h",
                                                "events": ["interview.scored"]}).json()["id"]
    assert admin.delete(f"/api/v1/webhooks/{hook}").json()["active"] is False
    assert admin.post(f"/api/v1/webhooks/{hook}/test").status_code == 422


def test_urls_that_cannot_be_read_are_refused_with_invalid_url(world: World) -> None:
    admin = world.staff(world.a, "admin")
    for url in ("http://[ats.example.com/h", "https://ats.example.com:99999/h",
                "https://ats.example.com:port/h"):
        refused = admin.post("/api/v1/webhooks", json={"url": url, "events": ["interview.scored"]})
        assert refused.status_code == 422, (url, refused.text)
        assert refused.json()["error"]["code"] == "invalid_url"
    assert admin.get("/api/v1/webhooks").json() == []


def test_completing_an_interview_records_a_delivery_that_the_flow_delivers(
    world: World, receiver: Receiver
) -> None:
    _endpoint(world.a, receiver.url)
    _finish_interview(world, world.a)
    [delivery_id] = _published_deliveries(world)
    assert flow.deliver(delivery_id) == ("delivered", None)
    [(headers, body)] = receiver.requests
    payload = json.loads(body)
    assert headers["X-Parley-Event"] == payload["event"] == "interview.completed"
    assert payload["delivery_id"] == delivery_id
    assert payload["organisation_id"] == world.a.org_id
    assert payload["data"]["interview_id"] == world.a.interview_id
    assert payload["data"]["role_id"] == world.a.role_id
    assert payload["data"]["role_title"] == "Role a"
    assert payload["data"]["state"] == "completed"
    assert flow.deliver(delivery_id) == ("skipped", None)  # delivered once, never twice
    assert len(receiver.requests) == 1


def test_two_failed_attempts_are_logged_then_the_third_delivers(
    world: World, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    _endpoint(world.a, receiver.url)
    _finish_interview(world, world.a)
    [delivery_id] = _published_deliveries(world)
    assert flow.deliver(delivery_id) == ("pending", 30.0)  # the schedule's first wait
    assert flow.deliver(delivery_id) == ("skipped", None)  # not due for 30 s
    with unit_of_work() as session:
        session.execute(update(WebhookDelivery).values(next_attempt_at=utcnow()))
    first = _delivery(delivery_id)
    assert (first.state, first.attempts, first.last_status_code) == ("pending", 1, 500)
    assert flow.deliver(delivery_id, delays=NO_WAIT) == ("pending", 0.0)
    second = _delivery(delivery_id)
    assert (second.attempts, second.last_status_code, second.last_error) == (2, 500, "HTTP 500")
    assert flow.deliver(delivery_id, delays=NO_WAIT) == ("delivered", None)
    third = _delivery(delivery_id)
    assert (third.state, third.attempts, third.last_status_code) == ("delivered", 3, 204)
    assert third.delivered_at is not None and third.last_error is None
    assert len({h["X-Parley-Delivery"] for h, _ in receiver.requests}) == 1


def test_a_dead_url_ends_failed_after_the_maximum_attempts(world: World) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _endpoint(world.a, f"http://127.0.0.1:{port}/gone")
    _finish_interview(world, world.a)
    [delivery_id] = _published_deliveries(world)
    limit = get_settings().webhook_max_attempts
    outcomes = [flow.deliver(delivery_id, delays=NO_WAIT)[0] for _ in range(limit + 1)]
    assert outcomes == ["pending"] * (limit - 1) + ["failed", "skipped"]
    dead = _delivery(delivery_id)
    assert (dead.state, dead.attempts, dead.last_status_code) == ("failed", limit, None)
    assert dead.last_error and "Connect" in dead.last_error
    with unit_of_work() as session:
        assert webhooks.due_deliveries(session) == []  # the sweeper leaves it alone


def _score(org: Org, answer_id: str, value: float, version: str = "m1") -> None:
    with unit_of_work() as session:
        session.execute(update(Answer).where(Answer.id == answer_id).values(state="transcribed"))
        add_score(session, org, value=value, answer_id=answer_id, model_version=version)


def _scored_check(org: Org, version: str = "m1") -> list[str]:
    with unit_of_work() as session:
        return webhooks.interview_scored(
            session, publisher=None, interview_id=org.interview_id, model_version=version
        )


def test_the_scored_event_fires_once_when_the_last_answer_is_scored(
    world: World, receiver: Receiver
) -> None:
    _endpoint(world.a, receiver.url, events=("interview.scored",))
    _finish_interview(world, world.a)
    assert _published_deliveries(world) == []  # subscribed to `scored` only
    with unit_of_work() as session:
        first, last = session.scalars(
            select(Answer.id).where(Answer.interview_id == world.a.interview_id)
            .order_by(Answer.created_at)
        ).all()
    _score(world.a, first, 40.0)
    assert _scored_check(world.a) == []  # one answer still waits for its score
    _score(world.a, last, 80.0)
    [delivery_id] = _scored_check(world.a)
    assert _scored_check(world.a) == []  # the same interview and model: never a second event
    assert flow.deliver(delivery_id) == ("delivered", None)
    payload = json.loads(receiver.requests[0][1])
    assert payload["event"] == "interview.scored"
    assert payload["data"]["model_version"] == "m1"
    assert payload["data"]["overall_fit"] == 60.0
    assert payload["data"]["competencies"] == [
        {"key": "communication", "score": 60.0, "band": "meets"}
    ]


def test_no_payload_holds_the_candidates_name_or_email(world: World, receiver: Receiver) -> None:
    _endpoint(world.a, receiver.url)
    _finish_interview(world, world.a)
    with unit_of_work() as session:
        answers = session.scalars(
            select(Answer.id).where(Answer.interview_id == world.a.interview_id)
        ).all()
    for answer_id in answers:
        _score(world.a, answer_id, 70.0)
    _scored_check(world.a)
    with unit_of_work() as session:
        payloads = [json.dumps(d.payload) for d in session.scalars(select(WebhookDelivery))]
    assert len(payloads) == 2
    for text in payloads:
        assert "Cand a" not in text and "cand@a.example.com" not in text


@pytest.mark.slow
def test_a_scoring_task_redelivered_after_its_worker_died_still_sends_interview_scored(
    world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """acks_late redelivers a task whose worker died; if it died after the scores' commit and
    before the interview.scored check, the redelivered task finds the answer scored and makes
    the check it owes. (The deliveries' own tasks are recorded, not sent: no broker here.)"""
    monkeypatch.setattr(scoring_flow, "TaskPublisher", RecordingPublisher)
    _endpoint(world.a, receiver.url, events=("interview.scored",))
    [answer_id] = typed_answers(world.a, [
        "I told the customer myself that the order would be late, and offered a new date."])
    with unit_of_work() as session:
        answer = session.get(Answer, answer_id)
        assert answer is not None
        session.execute(update(Interview).where(Interview.id == answer.interview_id)
                        .values(state="completed"))
    assert scoring_flow.score_answer(answer_id) == "scored"
    assert len(_scored_deliveries()) == 1
    with unit_of_work() as session:  # as if the worker had died before the check
        session.execute(delete(WebhookDelivery))
    assert scoring_flow.score_answer(answer_id) == "skipped"  # the redelivered task
    assert len(_scored_deliveries()) == 1
    assert scoring_flow.score_answer(answer_id) == "skipped"
    assert len(_scored_deliveries()) == 1  # and never twice


def _scored_deliveries() -> list[WebhookDelivery]:
    with unit_of_work() as session:
        return list(session.scalars(select(WebhookDelivery)
                                    .where(WebhookDelivery.event == "interview.scored")))


@pytest.mark.slow
def test_a_real_worker_delivers_a_signed_ping_to_the_receiver(
    stack: RealWorker, receiver: Receiver
) -> None:
    stack.start()
    org = seed_organisation("a")
    hook, secret = _endpoint(org, receiver.url)
    publisher = CeleryPublisher(get_settings())
    with unit_of_work() as session:
        delivery_id = webhooks.send_ping(session, publisher=publisher, endpoint_id=hook).id
    deadline = time.monotonic() + 90
    while _delivery(delivery_id).state != "delivered" and time.monotonic() < deadline:
        time.sleep(0.5)
        if int(time.monotonic() * 2) % 10 == 0:
            # What the sweeper does for a lost message (a shared broker may hand ours to a
            # stranger): publish again; the claim keeps it to one request.
            publisher.publish(jobs.DELIVER_WEBHOOK, delivery_id)
    assert _delivery(delivery_id).state == "delivered", stack.log_tail()
    [(headers, body)] = receiver.requests
    assert webhooks.verify_signature(
        secret, headers["X-Parley-Timestamp"], body, headers["X-Parley-Signature"]
    )
