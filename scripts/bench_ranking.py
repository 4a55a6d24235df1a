"""The ranked candidate list at 100,000 scored candidates in one role, on PostgreSQL.

    .venv/bin/python scripts/bench_ranking.py [--candidates 100000] [--runs 60] [--keep]
    .venv/bin/python scripts/bench_ranking.py --database parley_bench_XXXXXXXX   # measure again

Makes a throw-away database on the PostgreSQL server (PARLEY_BENCH_POSTGRES_URL, default the
local one, database `test` as the admin connection), migrates it, and fills one role with
scored candidates the way Parley stores them: candidate, invitation, interview (completed, with a
fit), six transcribed and scored answers and six competency standings each. Then it times, in this process,
the list as a recruiter asks for it through the real API (FastAPI app, session cookie, JSON):

- first page: best fit first, 50 rows
- filtered page: completed interviews that exceed on communication and meet on collaboration
- search: a name fragment
- deep page: rows 50,001-50,050, reached with the cursor of the page before (keyset)
- by name: first page sorted by name

Baseline, in the same run and on the same data: the deep page fetched with OFFSET 50,000 (the
usual way to page), and the first page ranked the way Parley did before standings were stored
(every candidate's scores read and averaged per request), on a slice of the role
(--baseline-candidates), scaled to the full role.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get(
    "PARLEY_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "bench password 123"
KEYS = ("communication", "problem_solving", "collaboration", "ownership", "adaptability_learning",
        "leadership_influence")
FIRST = ["Ada", "Ben", "Chen", "Dara", "Emil", "Fatima", "Gus", "Hana", "Ivo", "Jade", "Kofi",
         "Lena", "Milo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara"]
LAST = ["Smith", "Okafor", "Nguyen", "Garcia", "Kowalski", "Haddad", "Lund", "Sato", "Roux",
        "Ng", "Brown", "Ivanova", "Mensah", "Silva", "Kaur", "Novak", "Walsh", "Costa"]


def _admin(statement: str) -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _copy(conn, table: str, columns: list[str], rows) -> None:  # type: ignore[no-untyped-def]
    """COPY rows into a table: the fast way to fill PostgreSQL."""
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


def _seed(url: str) -> tuple[str, str]:
    """An organisation, a recruiter and a role with six competencies; returns (role, email)."""
    os.environ["PARLEY_DATABASE_URL"] = url
    from services.core.db import unit_of_work
    from services.core.demo.loader import content
    from services.core.organisations import service as organisations
    from services.core.organisations.orm import StaffRole
    from services.core.roles import service as roles
    from services.core.rubrics import service as rubrics

    doc = content()
    with unit_of_work() as session:
        org = organisations.create_organisation(session, name="Bench", slug="bench")
        email = "recruiter@bench.example.com"
        organisations.create_user(session, org_id=org.id, email=email, name="R",
                                  role=StaffRole.RECRUITER, password=PASSWORD)
        version = rubrics.import_rubric(session, org_id=org.id, document=doc["rubric"])
        by_key: dict[str, dict] = {}
        for q in doc["questions"]:
            by_key.setdefault(q["competency"], q)
        questions = [
            roles.add_question(session, org_id=org.id, key=q["key"], competency_key=key,
                               text=q["text"])
            for key, q in by_key.items() if key in KEYS
        ]
        role = roles.create_role(
            session, org_id=org.id, actor="system", title="Bench role", description="",
            rubric_version_id=version.id, question_ids=[q.id for q in questions],
            thresholds=[roles.Threshold(k, 3, 4) for k in KEYS],
        )
        return role.id, email


def _fill(url: str, role_id: str, n: int) -> float:
    """n scored candidates in the role; returns the seconds it took."""
    from services.core.roles.orm import CompetencyThreshold, JobRole, Question, ScriptItem
    from services.core.scoring.service import band

    started = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        org_id, = conn.execute(select(JobRole.org_id).where(JobRole.id == role_id)).one()
        questions = conn.execute(
            select(ScriptItem.question_id, Question.competency_key)
            .join(Question, Question.id == ScriptItem.question_id)
            .where(ScriptItem.role_id == role_id).order_by(ScriptItem.position)
        ).all()
        rubric_version_id = conn.execute(
            select(JobRole.rubric_version_id).where(JobRole.id == role_id)).scalar_one()
        levels = {t.competency_key: t for t in conn.execute(
            select(CompetencyThreshold).where(CompetencyThreshold.role_id == role_id))}
        rng = random.Random(42)
        now = time.time()
        people, invites, interviews, answers, scored, standings = [], [], [], [], [], []
        for i in range(n):
            cid, inv, iid = (uuid.uuid4().hex for _ in range(3))
            at = _ts(now - rng.uniform(0, 90 * 86400))
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
            people.append((cid, org_id, at, name, f"person{i}@mail.example.com", False))
            invites.append((inv, org_id, at, uuid.uuid4().hex + uuid.uuid4().hex, _ts(now + 86400 * 7)))
            base = rng.gauss(55, 15)
            scores = {k: round(min(100, max(0, base + rng.gauss(0, 12))), 1) for k in KEYS}
            fit = round(statistics.fmean(scores.values()), 1)
            interviews.append((iid, org_id, at, cid, role_id, inv, "completed",
                               rng.choice(["new", "new", "new", "in_review", "advanced"]), at,
                               fit, fit))
            for qid, key in questions:
                aid = uuid.uuid4().hex
                answers.append((aid, org_id, at, iid, qid, "transcribed", at, "audio/webm",
                                250_000, 1))
                scored.append((uuid.uuid4().hex, org_id, at, aid, key, scores[key],
                               1 + scores[key] / 25, "[]", rubric_version_id, "bench-model",
                               "bench-asr", "[]"))
            for k, v in scores.items():
                standings.append((uuid.uuid4().hex, org_id, at, iid, role_id, k, v, v,
                                  band(v, levels.get(k)), 1, False))
        _copy(conn, "candidates", ["id", "org_id", "created_at", "name", "email", "is_synthetic"],
              people)
        _copy(conn, "invitations", ["id", "org_id", "created_at", "token_hash", "expires_at"],
              invites)
        _copy(conn, "interviews", ["id", "org_id", "created_at", "candidate_id", "role_id",
                                   "invitation_id", "state", "status", "completed_at", "fit",
                                   "fit_sort"], interviews)
        _copy(conn, "answers", ["id", "org_id", "created_at", "interview_id", "question_id",
                                "state", "state_changed_at", "content_type", "size_bytes",
                                "attempts"], answers)
        _copy(conn, "scores", ["id", "org_id", "created_at", "answer_id", "competency_key",
                               "value", "level", "gates", "rubric_version_id", "model_version",
                               "asr_version", "evidence"], scored)
        _copy(conn, "competency_standings", ["id", "org_id", "created_at", "interview_id",
                                             "role_id", "competency_key", "score",
                                             "model_score", "band", "answers", "overridden"],
              standings)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))  # as autovacuum leaves a settled table
    engine.dispose()
    return time.perf_counter() - started


def _ts(epoch: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()


def _timed(fn, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    fn()  # warm: plans and caches, as in a running server
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _row(name: str, ms: list[float], note: str = "") -> str:
    p = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [ms[0]] * 99
    return f"| {name} | {len(ms)} | {statistics.median(ms):.1f} | {p[94]:.1f} | {max(ms):.1f} | {note} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--baseline-candidates", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database", help="measure again on a database an earlier --keep "
                        "run filled (it is kept)")
    args = parser.parse_args()

    name = args.database or f"parley_bench_{uuid.uuid4().hex[:8]}"
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    os.environ.update(PARLEY_DATABASE_URL=url, PARLEY_ENV="test",
                      PARLEY_DATA_DIR=str(Path("/tmp") / name))
    if args.database:
        engine = create_engine(url)
        with engine.connect() as conn:
            role_id = conn.execute(text("SELECT id FROM job_roles WHERE title = 'Bench role'")
                                   ).scalar_one()
        engine.dispose()
        return _measure(url, role_id, "recruiter@bench.example.com", args)
    _admin(f'CREATE DATABASE "{name}"')
    try:
        from services.core import migrate

        migrate.upgrade(url)
        role_id, email = _seed(url)
        seconds = _fill(url, role_id, args.candidates)
        print(f"filled {args.candidates:,} scored candidates (6 answers and 6 standings each) "
              f"in {seconds:.0f} s into {name}", flush=True)
        return _measure(url, role_id, email, args)
    finally:
        if not args.keep:
            from services.core.db import get_engine

            get_engine().dispose()
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _measure(url: str, role_id: str, email: str, args: argparse.Namespace) -> int:
    from fastapi.testclient import TestClient

    from services.api.app import create_app

    with TestClient(create_app()) as client:  # started as a server starts it (lifespan)
        return _measure_with(client, url, role_id, email, args)


def _measure_with(client, url: str, role_id: str, email: str,  # type: ignore[no-untyped-def]
                  args: argparse.Namespace) -> int:
    from services.core.db import unit_of_work
    from services.core.interviews.orm import Interview
    from services.core.scoring import review, standings

    assert client.post("/api/v1/auth/login",
                       json={"email": email, "password": PASSWORD}).status_code == 200
    base = f"/api/v1/roles/{role_id}/candidates"
    deep = 50_000 if args.candidates > 50_050 else args.candidates // 2

    def fetch(params: dict[str, object]) -> dict:
        response = client.get(base, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    with unit_of_work() as session:  # the cursor of the page before the deep one
        fit_sort, last_id = session.execute(
            select(Interview.fit_sort, Interview.id).where(Interview.role_id == role_id)
            .order_by(Interview.fit_sort.desc(), Interview.id.desc()).offset(deep - 1).limit(1)
        ).one()
    cursor = standings._encode("fit", [fit_sort, last_id])
    filtered = {"state": "completed", "band": ["communication:exceeds", "collaboration:meets"]}
    cases = [
        ("first page", {}),
        ("filtered page (2 bands + state)", filtered),
        ("search 'okafor 12'", {"q": "okafor 12"}),
        (f"deep page (rows {deep + 1:,}-{deep + 50:,}, keyset)", {"cursor": cursor}),
        ("first page by name", {"sort": "name"}),
    ]
    print(f"\nGET {base.replace(role_id, '{role}')}?limit=50 through the API, {args.runs} runs each "
          f"(ms):\n")
    print("| page | runs | p50 | p95 | max | rows / total |")
    print("|---|---:|---:|---:|---:|---|")
    worst = 0.0
    for label, params in cases:
        body = fetch({"limit": 50, **params})
        ms = _timed(lambda p=params: fetch({"limit": 50, **p}), args.runs)
        worst = max(worst, statistics.quantiles(ms, n=100, method="inclusive")[94])
        total = ("-" if body["total"] is None  # counted on page 1 only, up to 1,000
                 else f"{body['total']:,}{'+' if body['total_capped'] else ''}")
        print(_row(label, ms, f"{len(body['items'])} / {total}"), flush=True)

    # The exact count the first page no longer waits for, and the baseline: the same filtered
    # page counting every match, as it did before the cap.
    ms = _timed(lambda: client.get(f"{base}/count", params=filtered).raise_for_status(), args.runs)
    exact = client.get(f"{base}/count", params=filtered).json()["total"]
    print(_row("exact count of the filtered page (.../count)", ms, f"{exact:,}"))
    cap = standings.COUNT_CAP
    standings.COUNT_CAP = 10**9
    try:
        ms = _timed(lambda: fetch({"limit": 50, **filtered}), args.runs)
    finally:
        standings.COUNT_CAP = cap
    print(_row("baseline: filtered page counting every match", ms), flush=True)

    engine = create_engine(url)
    sql = text("SELECT id FROM interviews WHERE role_id = :r ORDER BY fit_sort DESC, id DESC "
               "LIMIT 50 OFFSET :o")
    with engine.connect() as conn:
        ms = _timed(lambda: conn.execute(sql, {"r": role_id, "o": deep}).all(), args.runs)
    keyset = text("SELECT id FROM interviews WHERE role_id = :r AND (fit_sort, id) < (:f, :i) "
                  "ORDER BY fit_sort DESC, id DESC LIMIT 50")
    with engine.connect() as conn:
        ks = _timed(lambda: conn.execute(keyset, {"r": role_id, "f": fit_sort, "i": last_id}).all(),
                    args.runs)
    engine.dispose()
    print("\nBaseline, same data, the query alone (ms):\n")
    print("| query | runs | p50 | p95 | max | |")
    print("|---|---:|---:|---:|---:|---|")
    print(_row(f"deep page, OFFSET {deep:,}", ms))
    print(_row("deep page, keyset (what the API runs)", ks))

    with unit_of_work() as session:
        sample = session.scalars(
            select(Interview).where(Interview.role_id == role_id).limit(args.baseline_candidates)
        ).all()
        started = time.perf_counter()
        review.ranked(session, interviews=sample)
        took = time.perf_counter() - started
    print(f"\nRanking per request as before (scores read and averaged for every candidate): "
          f"{took * 1000:.0f} ms for {len(sample):,} candidates, so about "
          f"{took * args.candidates / max(1, len(sample)):.0f} s for {args.candidates:,}.")
    from services.core.fairness.report import outcomes_for_role

    with unit_of_work() as session:
        started = time.perf_counter()
        outcomes, _ = outcomes_for_role(session, role_id=role_id)
        took = time.perf_counter() - started
    print(f"Adverse-impact outcomes of the role from the standings: {len(outcomes):,} candidates "
          f"in {took:.1f} s.")
    print(f"\nworst p95 through the API: {worst:.1f} ms (target < 150 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
