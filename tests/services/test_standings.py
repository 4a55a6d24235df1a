"""The stored standings behind the ranked list: kept current, filtered, sorted and paged.

Every check compares what the database returns with a recomputation from the scores themselves
(scoring/review.py), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import importlib
import random

import pytest
from sqlalchemy import delete, select, update

from services.core.db import unit_of_work, utcnow
from services.core.interviews import invitations
from services.core.interviews.orm import Answer, Interview
from services.core.interviews.states import AnswerState, InterviewState
from services.core.scoring import review, standings
from services.core.scoring.orm import CompetencyStanding
from tests.services.conftest import Org, World, add_score

NAMES = ["Ada Obi", "bea Lund", "Chen Wei", "Dara Ní Bhriain", "Émile Roux", "fatima Zahra",
         "Gus 100% Real", "Hana_Sato"]


def _fill_role(org: Org, values: list[float | None]) -> list[str]:
    """One candidate per value: an answer scored at that value, or none when None."""
    ids = []
    with unit_of_work() as session:
        for n, value in enumerate(values):
            issued = invitations.invite_candidate(
                session, org_id=org.org_id, actor_id=None, role_id=org.role_id,
                name=f"{NAMES[n % len(NAMES)]} {n}", email=f"person{n}@mail.example.com",
                ttl_days=7,
            )
            ids.append(issued.interview.id)
            if value is None:
                continue
            issued.interview.state = InterviewState.COMPLETED
            answer = Answer(
                org_id=org.org_id, interview_id=issued.interview.id,
                question_id=org.question_ids[0], state=AnswerState.TRANSCRIBED,
                state_changed_at=utcnow(), content_type="audio/wav",
            )
            session.add(answer)
            session.flush()
            add_score(session, org, value=value, answer_id=answer.id)
    return ids


def _expected_fits(role_id: str) -> dict[str, float | None]:
    with unit_of_work() as session:
        interviews = session.scalars(select(Interview).where(Interview.role_id == role_id)).all()
        return {
            r.interview.id: r.fit for r in review.ranked(session, interviews=interviews)
        }


def _walk(client, url: str, **params: object) -> tuple[list[dict], int]:  # type: ignore[no-untyped-def]
    """Every page of a listing, following next_cursor; the rows and the pages it took."""
    rows, cursor, pages = [], None, 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = client.get(url, params=query)
        assert body.status_code == 200, body.text
        data = body.json()
        rows += data["items"]
        pages += 1
        cursor = data["next_cursor"]
        if cursor is None:
            return rows, pages


def test_pages_hold_every_candidate_once_in_each_order(world: World) -> None:
    a = world.a
    random.seed(7)
    values: list[float | None] = [round(random.uniform(0, 100), 1) for _ in range(21)]
    values += [55.0, 55.0, 55.0, None, None]  # ties and unscored candidates
    _fill_role(a, values)
    recruiter = world.staff(a, "recruiter")
    url = f"/api/v1/roles/{a.role_id}/candidates"
    expected = _expected_fits(a.role_id)
    assert len(expected) == 27  # the seed candidate too, unscored

    rows, pages = _walk(recruiter, url, limit=4)
    assert pages == 7
    assert len(rows) == len({r["interview_id"] for r in rows})
    assert {r["interview_id"]: r["fit"] for r in rows} == expected
    fits = [r["fit"] for r in rows]
    scored = [f for f in fits if f is not None]
    assert scored == sorted(scored, reverse=True) and fits[len(scored):] == [None] * 3

    by_name, _ = _walk(recruiter, url, sort="name", limit=5)
    names = [r["candidate_name"].lower() for r in by_name]
    assert len(by_name) == 27 and names == sorted(names)
    newest, _ = _walk(recruiter, url, sort="newest", limit=6)
    assert len({r["interview_id"] for r in newest}) == 27
    first = recruiter.get(url, params={"limit": 4}).json()
    assert first["total"] == 27 and len(first["items"]) == 4
    second = recruiter.get(url, params={"limit": 4, "cursor": first["next_cursor"]}).json()
    assert second["total"] is None and len(second["items"]) == 4  # counted on the first only
    assert first["total_capped"] is False


def test_the_first_page_counts_up_to_the_cap_and_the_count_endpoint_counts_all(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = world.a
    _fill_role(a, [20.0, 40.0, 60.0, 80.0, 90.0, None])
    monkeypatch.setattr(standings, "COUNT_CAP", 3)  # 1,000 in production
    recruiter = world.staff(a, "recruiter")
    url = f"/api/v1/roles/{a.role_id}/candidates"
    page = recruiter.get(url, params={"limit": 2}).json()
    assert (page["total"], page["total_capped"], len(page["items"])) == (3, True, 2)
    assert recruiter.get(f"{url}/count").json() == {"total": 7}  # the seed candidate too
    scored = {"scored": "true"}
    assert recruiter.get(url, params=scored).json()["total_capped"] is True
    assert recruiter.get(f"{url}/count", params=scored).json() == {"total": 5}
    narrow = {"band": "communication:exceeds"}
    page = recruiter.get(url, params=narrow).json()
    assert (page["total"], page["total_capped"]) == (2, False)
    assert recruiter.get(f"{url}/count", params=narrow).json() == {"total": 2}
    bad = recruiter.get(f"{url}/count", params={"band": "communication:great"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_filter"


def test_filters_narrow_on_request_and_count_what_they_match(world: World) -> None:
    a = world.a  # the role's communication levels: required 3 (50/100), exceeds 4 (75/100)
    _fill_role(a, [10.0, 49.9, 50.0, 74.9, 75.0, 99.0, None])
    recruiter = world.staff(a, "recruiter")
    url = f"/api/v1/roles/{a.role_id}/candidates"

    def matching(**params: object) -> list[float | None]:
        body = recruiter.get(url, params={"limit": 200, **params})
        assert body.status_code == 200, body.text
        assert body.json()["total"] == len(body.json()["items"])
        return [r["fit"] for r in body.json()["items"]]

    assert matching(band="communication:exceeds") == [99.0, 75.0]
    assert matching(band="communication:meets") == [74.9, 50.0]
    assert matching(band="communication:below") == [49.9, 10.0]
    assert matching(scored=False) == [None, None]
    assert len(matching(scored=True)) == 6
    assert matching(state="completed", band="communication:meets") == [74.9, 50.0]
    assert len(matching(state=["invited", "in_progress"])) == 2
    assert matching(q="CHEN") == [50.0]  # "Chen Wei 2"; case does not matter
    assert matching(q="person5@") == [99.0]
    assert matching(q="100%") == [None]  # "Gus 100% Real 6": % is a character, not a wildcard
    assert matching(q="n%w") == []  # as a wildcard it would find "Chen Wei 2"
    assert matching(q="ma_z") == []  # and _ would find "fatima Zahra 5"
    assert matching(status="advanced") == []

    for params, code in [({"band": "communication"}, "bad_filter"),
                         ({"band": "communication:great"}, "bad_filter"),
                         ({"state": "asleep"}, "bad_filter"),
                         ({"attention": "everyone"}, "bad_filter"),
                         ({"sort": "salary"}, "bad_sort"),
                         ({"cursor": "bm90IGEgY3Vyc29y"}, "bad_cursor"),
                         ({"cursor": "!!"}, "bad_cursor")]:
        bad = recruiter.get(url, params=params)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == code, (params, bad.text)
    # a cursor of one order does not position another
    cursor = recruiter.get(url, params={"limit": 2}).json()["next_cursor"]
    wrong = recruiter.get(url, params={"cursor": cursor, "sort": "name"})
    assert wrong.json()["error"]["code"] == "bad_cursor"


def test_standings_follow_thresholds_overrides_and_new_models(world: World) -> None:
    a = world.a
    ids = _fill_role(a, [40.0, 60.0, 80.0])
    recruiter = world.staff(a, "recruiter")
    url = f"/api/v1/roles/{a.role_id}/candidates"
    band = {"band": "communication:exceeds", "limit": 200}
    assert recruiter.get(url, params=band).json()["total"] == 1

    moved = recruiter.put(
        f"/api/v1/roles/{a.role_id}/thresholds",
        json={"thresholds": [{"competency_key": "communication", "required_level": 2,
                              "exceeds_level": 3.4}]},
    )
    assert moved.status_code == 200, moved.text  # exceeds now at 60/100
    assert [r["fit"] for r in recruiter.get(url, params=band).json()["items"]] == [80.0, 60.0]
    assert recruiter.get(url, params={"band": "communication:below"}).json()["total"] == 0

    override = recruiter.post(
        f"/api/v1/interviews/{ids[0]}/overrides",
        json={"competency_key": "communication", "value": 90.0,
              "reason": "The transcript lost half of this answer."},
    )
    assert override.status_code == 201, override.text
    top = recruiter.get(url, params={"limit": 1}).json()["items"][0]
    assert (top["interview_id"], top["fit"]) == (ids[0], 90.0)
    assert top["competencies"][0]["overridden"] and top["competencies"][0]["model_score"] == 40.0

    with unit_of_work() as session:  # a newer model scores the 60 one again
        answer_id = session.scalars(select(Answer.id).where(Answer.interview_id == ids[1])).one()
        add_score(session, a, value=20.0, answer_id=answer_id, model_version="m2")
    assert {r["interview_id"]: r["fit"] for r in recruiter.get(url).json()["items"]} == (
        _expected_fits(a.role_id)
    )
    assert recruiter.get(url, params={"band": "communication:below"}).json()["total"] == 1

    other = world.staff(world.b, "recruiter")  # another organisation sees none of it
    assert other.get(url).status_code == 404


def test_the_migration_fills_the_standings_of_interviews_scored_before_it(world: World) -> None:
    a = world.a
    ids = _fill_role(a, [30.0, 70.0, None])
    recruiter = world.staff(a, "recruiter")
    recruiter.post(
        f"/api/v1/interviews/{ids[0]}/overrides",
        json={"competency_key": "communication", "value": 85.0, "reason": "Checked by hand."},
    )
    with unit_of_work() as session:
        stored = {(s.interview_id, s.competency_key): (s.score, s.model_score, s.band,
                                                        s.overridden)
                  for s in session.scalars(select(CompetencyStanding))}
        fits = dict(session.execute(select(Interview.id, Interview.fit_sort)).all())
        session.execute(delete(CompetencyStanding))
        session.execute(update(Interview).values(fit=None, fit_sort=-1))
    migration = importlib.import_module("services.core.migrations.versions.0013_standings")
    with unit_of_work() as session:
        migration._fill(session.connection())
    with unit_of_work() as session:
        again = {(s.interview_id, s.competency_key): (s.score, s.model_score, s.band,
                                                       s.overridden)
                 for s in session.scalars(select(CompetencyStanding))}
        assert dict(session.execute(select(Interview.id, Interview.fit_sort)).all()) == fits
    assert again == stored and stored[(ids[0], "communication")] == (85.0, 30.0, "exceeds", True)


@pytest.mark.parametrize("value", [0.0, 4.9, 5.0, 99.9, 100.0])
def test_the_distribution_bins_scores_by_five_points(sqlite_world: World, value: float) -> None:
    a = sqlite_world.a
    _fill_role(a, [value, 50.0])
    with unit_of_work() as session:
        counts = standings.distribution(session, role_id=a.role_id)["communication"]
    expected = [0] * 20
    expected[min(19, int(value // 5))] += 1
    expected[10] += 1
    assert counts == expected


def test_standings_the_migration_fills_read_back_like_the_app_writes_them(world: World) -> None:
    a = world.a
    _fill_role(a, [42.0])
    with unit_of_work() as session:
        session.execute(delete(CompetencyStanding))
    migration = importlib.import_module("services.core.migrations.versions.0013_standings")
    with unit_of_work() as session:
        migration._fill(session.connection())
    with unit_of_work() as session:
        (row,) = session.scalars(select(CompetencyStanding)).all()
        assert row.created_at.tzinfo is not None and row.created_at <= utcnow()
