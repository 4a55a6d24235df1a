"""Every endpoint, called as every role of two organisations, a candidate of each and nobody.

Resources in the paths belong to organisation A. Each caller must get exactly what it should:
A's permitted staff a success, A's other staff 403, B's permitted staff 404 (A's data does not
exist for them), B's other staff 403, candidates and anonymous callers 401 on staff endpoints,
and no response to anyone outside A may contain any of A's ids.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core.db import ORG_SCOPE, unit_of_work
from services.core.interviews import open_links
from services.core.interviews.orm import Decision, Interview
from services.core.rubrics import service as rubrics
from services.core.rubrics import spreadsheet
from tests.services.conftest import Org, World, tone_wav

ADMIN, RECRUITER, PSYCH = "admin", "recruiter", "psychologist"
STAFF = frozenset({ADMIN, RECRUITER, PSYCH})
RECRUITING = frozenset({ADMIN, RECRUITER})
ANYONE = frozenset({"anyone"})  # no session: a role's open link, its token in the body
CALLERS = (
    "anonymous",
    "candidate_a",
    "candidate_b",
    "admin_a",
    "recruiter_a",
    "psychologist_a",
    "admin_b",
    "recruiter_b",
    "psychologist_b",
)
CHUNK = tone_wav(1.0)
CHUNK_SHA = hashlib.sha256(CHUNK).hexdigest()
CV = b"%PDF-1.4\n%%EOF\n"  # what the CV upload checks: a PDF's first and last bytes


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with {placeholders} filled from organisation A
    allowed: frozenset[str]  # staff roles, or {"candidate"} for the invite-token endpoints
    body: Callable[[], dict[str, object]] | None = None
    raw: bytes | None = None
    headers: dict[str, str] | None = None
    ok: frozenset[int] = frozenset({200, 201, 204})
    names_a_in_body: bool = False


def _open_link_token(a: Org) -> str:
    """A fresh open link to A's role, made when first needed: after the staff endpoints that
    replace and disable the role's link have run."""
    with unit_of_work() as session:
        session.info[ORG_SCOPE] = a.org_id
        link = open_links.create_link(
            session, org_id=a.org_id, actor_id=None, role_id=a.role_id,
            expires_in_days=None, max_candidates=None,
        )
        return open_links.link_token(link.id)


def _endpoints(a: Org) -> list[Endpoint]:
    q0, q1 = a.question_ids
    open_token = functools.cache(lambda: _open_link_token(a))
    return [
        Endpoint("GET", "/api/v1/me", STAFF),
        Endpoint("GET", "/api/v1/users", frozenset({ADMIN})),
        Endpoint(
            "POST",
            "/api/v1/users",
            frozenset({ADMIN}),
            body=lambda: {
                "email": f"{uuid.uuid4().hex[:8]}@example.com",
                "name": "New",
                "role": "recruiter",
                "password": "a long enough password",
            },
        ),
        Endpoint("GET", "/api/v1/audit", frozenset({ADMIN})),
        Endpoint("GET", "/api/v1/audit/verify", frozenset({ADMIN})),
        Endpoint("GET", "/api/v1/rubrics", STAFF),
        Endpoint("GET", f"/api/v1/rubrics/{a.rubric_version_id}", STAFF),
        Endpoint("GET", "/api/v1/questions", STAFF),
        Endpoint(
            "POST",
            "/api/v1/questions",
            STAFF,
            body=lambda: {
                "rubric_version_id": a.rubric_version_id,
                "competency_key": "communication",
                "text": f"Tell me about a time you explained something hard ({uuid.uuid4().hex}).",
            },
            names_a_in_body=True,
        ),
        Endpoint("GET", f"/api/v1/rubrics/{a.rubric_version_id}/export", STAFF),
        Endpoint("GET", f"/api/v1/rubrics/{a.rubric_version_id}/export?format=xlsx", STAFF),
        Endpoint(
            "POST",
            "/api/v1/rubrics/import?name=Imported&format=csv",
            frozenset({ADMIN, PSYCH}),
            raw=spreadsheet.export_document(rubrics.default_rubric(), "csv"),
            headers={"Content-Type": "text/csv"},
        ),
        Endpoint(
            "POST",
            "/api/v1/rubrics/versions",
            frozenset({ADMIN, PSYCH}),
            body=lambda: {**rubrics.default_rubric(), "name": "Edited"},
        ),
        Endpoint(
            "POST",
            "/api/v1/training-runs?embeddings=off",
            frozenset({ADMIN, PSYCH}),
            raw=b"item_id,text,criterion,rater,score\na,Some words.,c,r1,3\n",
            headers={"Content-Type": "text/csv"},
            ok=frozenset({202}),
        ),
        Endpoint("GET", "/api/v1/training-runs", frozenset({ADMIN, PSYCH})),
        # No such run: the role check still comes first (401/403), then an unknown id is 404.
        Endpoint(
            "GET", f"/api/v1/training-runs/{'0' * 32}", frozenset({ADMIN, PSYCH}), ok=frozenset({404})
        ),
        *_calibration_endpoints(a),
        Endpoint("GET", "/api/v1/question-bank", STAFF),
        Endpoint("POST", "/api/v1/question-bank/install", STAFF),
        Endpoint("GET", "/api/v1/roles", STAFF),
        Endpoint(
            "POST",
            "/api/v1/roles",
            RECRUITING,
            body=lambda: {
                "title": "New role",
                "rubric_version_id": a.rubric_version_id,
                "question_ids": [q0],
                "thresholds": [
                    {"competency_key": "communication", "required_level": 3, "exceeds_level": 4}
                ],
            },
            names_a_in_body=True,
        ),
        Endpoint("GET", f"/api/v1/roles/{a.role_id}", STAFF),
        # The seed's candidate has started: a change that keeps the script is allowed.
        Endpoint(
            "PUT",
            f"/api/v1/roles/{a.role_id}",
            RECRUITING,
            body=lambda: {
                "title": "Renamed role",
                "rubric_version_id": a.rubric_version_id,
                "question_ids": [q0, q1],
                "thresholds": [
                    {"competency_key": "communication", "required_level": 3, "exceeds_level": 4}
                ],
            },
        ),
        Endpoint("GET", f"/api/v1/roles/{a.role_id}/score-distribution", RECRUITING),
        Endpoint(
            "PUT",
            f"/api/v1/roles/{a.role_id}/thresholds",
            RECRUITING,
            body=lambda: {
                "thresholds": [
                    {"competency_key": "communication", "required_level": 2, "exceeds_level": 4}
                ]
            },
        ),
        Endpoint(
            "POST",
            f"/api/v1/roles/{a.role_id}/invitations",
            RECRUITING,
            body=lambda: {"name": "Invitee", "email": "invitee@example.com"},
        ),
        Endpoint(
            "POST",
            f"/api/v1/roles/{a.role_id}/invitations/batch",
            RECRUITING,
            raw=b"name,email\nInvitee,invitee@example.com\n",
            headers={"Content-Type": "text/csv"},
            ok=frozenset({201}),
        ),
        Endpoint("GET", f"/api/v1/roles/{a.role_id}/open-link", RECRUITING),
        Endpoint(
            "POST", f"/api/v1/roles/{a.role_id}/open-link", RECRUITING,
            body=lambda: {"max_candidates": 50},
        ),
        Endpoint("DELETE", f"/api/v1/roles/{a.role_id}/open-link", RECRUITING),
        Endpoint("POST", "/api/v1/candidate/open-link", ANYONE,
                 body=lambda: {"token": open_token()}),
        Endpoint(
            "POST", "/api/v1/candidate/open-link/join", ANYONE,
            body=lambda: {"token": open_token(), "name": "Opener",
                          "email": f"{uuid.uuid4().hex[:8]}@example.com"},
        ),
        Endpoint(
            "POST", f"/api/v1/interviews/{a.interview_id}/invitation/extend", RECRUITING,
            body=lambda: {"days": 1, "reason": "Asked for a few more days."},
        ),
        Endpoint("GET", f"/api/v1/roles/{a.role_id}/candidates", RECRUITING),
        Endpoint("GET", f"/api/v1/roles/{a.role_id}/candidates/count", RECRUITING),
        Endpoint("GET", f"/api/v1/roles/{a.role_id}/candidates.csv", RECRUITING),
        Endpoint(
            "PUT",
            f"/api/v1/roles/{a.role_id}/ai-scoring",
            RECRUITING,
            body=lambda: {"paused": False, "reason": "Carry on scoring."},
        ),
        Endpoint("GET", f"/api/v1/interviews/{a.interview_id}", RECRUITING),
        Endpoint("GET", f"/api/v1/answers/{a.answer_id}/media", RECRUITING),
        Endpoint(
            "POST",
            f"/api/v1/interviews/{a.interview_id}/decisions",
            RECRUITING,
            body=lambda: {
                "status": "in_review",
                "reason": "Reviewed the transcript.",
                "viewed": ["transcript"],
            },
        ),
        Endpoint(
            "PUT",
            f"/api/v1/interviews/{a.interview_id}/accommodations",
            RECRUITING,
            body=lambda: {"extra_think_seconds": 30, "reason": "Asked for more time."},
        ),
        # The CV in the order a recruiter meets it: uploaded (and replaced), read, removed.
        Endpoint(
            "PUT",
            f"/api/v1/interviews/{a.interview_id}/cv",
            RECRUITING,
            raw=CV,
            headers={"Content-Type": "application/pdf", "X-Filename": "cv.pdf"},
        ),
        Endpoint("GET", f"/api/v1/interviews/{a.interview_id}/cv", RECRUITING),
        Endpoint("GET", f"/api/v1/interviews/{a.interview_id}/cv/file", RECRUITING),
        Endpoint("DELETE", f"/api/v1/interviews/{a.interview_id}/cv", RECRUITING),
        Endpoint(
            "POST",
            f"/api/v1/interviews/{a.interview_id}/notes",
            RECRUITING,
            body=lambda: {"body": "Called to arrange the next step."},
        ),
        Endpoint("GET", f"/api/v1/interviews/{a.interview_id}/notes", RECRUITING),
        # No such note: the role check still comes first (401/403), then an unknown id is 404.
        Endpoint(
            "DELETE",
            f"/api/v1/interviews/{a.interview_id}/notes/{'0' * 32}",
            RECRUITING,
            ok=frozenset({404}),
        ),
        Endpoint("GET", f"/api/v1/roles/{a.role_id}/adverse-impact", frozenset({ADMIN})),
        # The seed interview has no score yet: an authorised override is refused with 422.
        Endpoint(
            "POST",
            f"/api/v1/interviews/{a.interview_id}/overrides",
            RECRUITING,
            body=lambda: {"competency_key": "communication", "value": 60, "reason": "Listened."},
            ok=frozenset({422}),
        ),
        Endpoint(
            "PUT",
            f"/api/v1/roles/{a.role_id}/feedback",
            RECRUITING,
            body=lambda: {"enabled": False, "delay_days": 3},
        ),
        # The seed role offers no feedback report: 409 is the authorised answer.
        Endpoint(
            "GET", "/api/v1/candidate/feedback", frozenset({"candidate"}), ok=frozenset({409})
        ),
        Endpoint("GET", "/api/v1/candidate/interview", frozenset({"candidate"})),
        # Asked only once the interview is complete: the seed's is not, so 409 is authorised.
        Endpoint(
            "POST",
            "/api/v1/candidate/self-identification",
            frozenset({"candidate"}),
            body=lambda: {"sex": "prefer_not_to_say"},
            ok=frozenset({409}),
        ),
        Endpoint(
            "GET", "/api/v1/candidate/speech/intro", frozenset({"candidate"}), ok=frozenset({200, 202})
        ),
        # Already consented in the seed: an authorised caller gets 409, never 401/403/404.
        Endpoint(
            "POST",
            "/api/v1/candidate/consent",
            frozenset({"candidate"}),
            body=lambda: {"accepted": True, "notice_version": "2026-11-v1"},
            ok=frozenset({409}),
        ),
        Endpoint(
            "PUT",
            f"/api/v1/candidate/answers/{q1}/chunks/0",
            frozenset({"candidate"}),
            raw=CHUNK,
            headers={"Content-Type": "audio/wav", "X-Chunk-SHA256": CHUNK_SHA},
        ),
        Endpoint(
            "POST",
            f"/api/v1/candidate/answers/{q1}/complete",
            frozenset({"candidate"}),
            body=lambda: {"chunk_count": 1, "sha256": CHUNK_SHA},
        ),
        Endpoint("GET", f"/api/v1/candidate/answers/{q1}", frozenset({"candidate"})),
        # Uploaded and waiting for transcription: authorised, but not restartable (409).
        Endpoint(
            "POST",
            f"/api/v1/candidate/answers/{q1}/restart",
            frozenset({"candidate"}),
            ok=frozenset({409}),
        ),
        # Typed answers are not granted in the seed: authorised, but refused with 409.
        Endpoint(
            "POST",
            f"/api/v1/candidate/answers/{q1}/text",
            frozenset({"candidate"}),
            body=lambda: {"text": "I would type this."},
            ok=frozenset({409}),
        ),
        # B's candidate has not answered everything: 409 is an authorised answer too.
        Endpoint(
            "POST", "/api/v1/candidate/finish", frozenset({"candidate"}), ok=frozenset({200, 409})
        ),
        Endpoint("GET", "/api/v1/candidate/rights", frozenset({"candidate"})),
        Endpoint("GET", "/api/v1/candidate/data", frozenset({"candidate"})),
        Endpoint(
            "POST",
            "/api/v1/candidate/human-review",
            frozenset({"candidate"}),
            body=lambda: {"message": "Please have a person look at my answers."},
        ),
        # Scheduled 30 days ahead: nothing is deleted during the matrix.
        Endpoint(
            "POST", "/api/v1/candidate/deletion", frozenset({"candidate"}), ok=frozenset({202})
        ),
        Endpoint(
            "POST",
            "/api/v1/webhooks",
            frozenset({ADMIN}),
            body=lambda: {"url": "https://ats.example.com/hook", "events": ["interview.scored"]},
        ),
        Endpoint("GET", "/api/v1/webhooks", frozenset({ADMIN})),
        # No such webhook: the role check still comes first (401/403), then an unknown id is 404.
        Endpoint("DELETE", f"/api/v1/webhooks/{'0' * 32}", frozenset({ADMIN}), ok=frozenset({404})),
        Endpoint(
            "GET", f"/api/v1/webhooks/{'0' * 32}/deliveries", frozenset({ADMIN}), ok=frozenset({404})
        ),
        Endpoint(
            "POST", f"/api/v1/webhooks/{'0' * 32}/test", frozenset({ADMIN}), ok=frozenset({404})
        ),
        Endpoint("POST", "/api/v1/auth/logout", STAFF),  # last: it ends the callers' sessions
    ]


def _calibration_endpoints(a: Org) -> list[Endpoint]:
    """The calibration workspace: admins and psychologists. An unknown batch, assignment,
    snapshot or run still answers 401/403 before 404; A's own are covered by test_calibration."""
    rubric_editors, none = frozenset({ADMIN, PSYCH}), "0" * 32
    missing = frozenset({404})
    batch = f"/api/v1/calibration/batches/{none}"
    return [
        Endpoint("GET", "/api/v1/calibration/raters", rubric_editors),
        # A's role with a panel that is nobody: refused for A (422), not found for B (404).
        Endpoint("POST", "/api/v1/calibration/batches", rubric_editors,
                 body=lambda: {"role_id": a.role_id, "rater_ids": [none]},
                 ok=frozenset({422}), names_a_in_body=True),
        Endpoint("GET", "/api/v1/calibration/batches", rubric_editors),
        Endpoint("GET", batch, rubric_editors, ok=missing),
        Endpoint("GET", f"{batch}/queue", rubric_editors, ok=missing),
        Endpoint("GET", f"{batch}/agreement", rubric_editors, ok=missing),
        Endpoint("GET", f"{batch}/disagreements", rubric_editors, ok=missing),
        Endpoint("GET", f"{batch}/session", rubric_editors, ok=missing),
        Endpoint("POST", f"{batch}/session", rubric_editors, body=dict, ok=missing),
        Endpoint("POST", f"{batch}/snapshots", rubric_editors, body=dict, ok=missing),
        Endpoint("GET", "/api/v1/calibration/assignments", rubric_editors),
        Endpoint("GET", f"/api/v1/calibration/assignments/{none}", rubric_editors, ok=missing),
        Endpoint("PUT", f"/api/v1/calibration/assignments/{none}", rubric_editors,
                 body=lambda: {"level": 3, "comment": "", "submit": False}, ok=missing),
        Endpoint("GET", f"/api/v1/calibration/assignments/{none}/media", rubric_editors,
                 ok=missing),
        Endpoint("GET", "/api/v1/calibration/snapshots", rubric_editors),
        Endpoint("POST", f"/api/v1/calibration/snapshots/{none}/train", rubric_editors,
                 ok=frozenset({404})),
        Endpoint("GET", "/api/v1/calibration/gate", rubric_editors),
        Endpoint("PUT", "/api/v1/calibration/gate", frozenset({ADMIN}),
                 body=lambda: {"margin": 0.05, "reason": "the access matrix"}),
        Endpoint("GET", f"/api/v1/training-runs/{none}/gate", rubric_editors, ok=missing),
        Endpoint("POST", f"/api/v1/training-runs/{none}/promote", rubric_editors,
                 body=lambda: {"reason": "the access matrix"}, ok=missing),
        Endpoint("GET", "/api/v1/calibration/promotions", rubric_editors),
    ]


def _expected(endpoint: Endpoint, caller: str) -> str:
    if endpoint.allowed == ANYONE:
        return "ok"
    if caller == "anonymous":
        return "401"
    who, org = caller.rsplit("_", 1)
    if endpoint.allowed == {"candidate"}:
        if who != "candidate":
            return "401"
        # A path naming organisation A's question is nothing to organisation B's candidate.
        return "ok" if org == "a" or "/answers/" not in endpoint.path else "404"
    if who == "candidate":
        return "401"
    if who not in endpoint.allowed:
        return "403"
    if org == "a":
        return "ok"
    names_a_resource = endpoint.names_a_in_body or any(
        len(part) == 32 for part in endpoint.path.split("/")
    )
    return "404" if names_a_resource else "ok"


def _call(client: TestClient, endpoint: Endpoint) -> tuple[int, str]:
    response = client.request(
        endpoint.method,
        endpoint.path,
        json=endpoint.body() if endpoint.body else None,
        content=endpoint.raw,
        headers=endpoint.headers,
    )
    return response.status_code, response.text


def _clients(world: World) -> dict[str, TestClient]:
    clients = {
        "anonymous": world.client(),
        "candidate_a": world.candidate(world.a),
        "candidate_b": world.candidate(world.b),
    }
    for org in (world.a, world.b):
        for who in (ADMIN, RECRUITER, PSYCH):
            clients[f"{who}_{org.key}"] = world.staff(org, who)
    return clients


def test_every_endpoint_answers_every_caller_exactly_as_it_should(world: World) -> None:
    a = world.a
    secrets_of_a = {
        a.org_id,
        a.role_id,
        a.interview_id,
        a.answer_id,
        a.rubric_version_id,
        *a.question_ids,
    }
    clients = _clients(world)
    wrong: list[str] = []
    for endpoint in _endpoints(a):
        for caller in CALLERS:
            status, body = _call(clients[caller], endpoint)
            expected = _expected(endpoint, caller)
            passed = status in endpoint.ok if expected == "ok" else str(status) == expected
            if not passed:
                wrong.append(
                    f"{endpoint.method} {endpoint.path} as {caller}: {status}, "
                    f"expected {expected}: {body[:160]}"
                )
            if not caller.endswith("_a") and any(s in body for s in secrets_of_a):
                wrong.append(f"{endpoint.method} {endpoint.path} as {caller} leaked A's data")
    assert not wrong, "\n".join(wrong)
    _statuses_changed_only_by_a_person_with_a_reason()


def _statuses_changed_only_by_a_person_with_a_reason() -> None:
    """After every endpoint ran as every caller: each candidate's status is "new" or the last
    decision's, and every decision names a person and a reason. No endpoint moves anyone else."""
    with unit_of_work() as session:
        decisions = session.scalars(select(Decision).order_by(Decision.created_at)).all()
        last = {d.interview_id: d.to_status for d in decisions}
        for interview in session.scalars(select(Interview)):
            assert interview.status == last.get(interview.id, "new"), interview.id
        assert decisions, "the matrix records at least one decision"
        for d in decisions:
            assert d.actor_id and len(d.reason.strip()) >= 5, d


def test_the_matrix_covers_every_api_route(world: World) -> None:
    # From the OpenAPI document: app.routes holds FastAPI's included-router wrappers, not
    # the routes themselves, so walking it would find nothing to check.
    paths = world.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
        if path.startswith("/api/v1") and path != "/api/v1/auth/login"
    }
    assert len(routes) > 30, sorted(routes)
    covered = set()
    for endpoint in _endpoints(world.a):
        for method, template in routes:
            parts, concrete = template.split("/"), endpoint.path.split("?")[0].split("/")
            if (
                method == endpoint.method
                and len(parts) == len(concrete)
                and all(p == c or p.startswith("{") for p, c in zip(parts, concrete, strict=True))
            ):
                covered.add((method, template))
    assert routes - covered == set()
