"""Self-identification stays apart from scoring; the adverse-impact report, checked by hand."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import select

from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work
from services.core.fairness.orm import SelfIdentification
from services.core.fairness.report import Outcome, adverse_impact
from tests.services.conftest import World, complete_with_score

ROOT = Path(__file__).resolve().parents[2]


def _o(sex, race, score, band, age=None) -> Outcome:  # type: ignore[no-untyped-def]
    return Outcome({"overall": score}, {"overall": band}, sex, race, age)


# Ten candidates, worked through by hand below. The median of the ten scores is 67.5.
HAND = [
    _o("female", "white", 80, "meets", "25_39"),
    _o("female", "white", 70, "meets", "under_25"),
    _o("female", "asian", 60, "below"),
    _o("female", "asian", 40, "below"),
    _o("male", "white", 90, "exceeds", "40_54"),
    _o("male", "white", 50, "below"),
    _o("male", "asian", 85, "meets", "40_54"),
    _o("male", "asian", 65, "meets"),
    _o("prefer_not_to_say", "white", 75, "meets"),
    _o(None, None, 30, "below"),
]


def _rows(table):  # type: ignore[no-untyped-def]
    return {
        r.group: (
            r.applicants,
            r.scoring_rate,
            r.scoring_impact_ratio,
            r.selection_rate,
            r.selection_impact_ratio,
            r.four_fifths_flag,
            r.fisher_p,
            r.reference,
        )
        for r in table.rows
    }


def test_the_report_reproduces_a_hand_computed_example() -> None:
    report = adverse_impact(HAND, measures=["overall"])
    tables = {t.grouping: t for t in report.tables}
    assert report.candidates == 10 and all(t.median_score == 67.5 for t in report.tables)

    # Sex: female 4 (2 above the median, 2 meet), male 4 (2 above, 3 meet or exceed); two
    # unknown (one preferred not to say, one did not answer). Selection reference: male, 3/4.
    # Female's ratio 0.5/0.75 = 0.6667 < 0.8. Fisher [[2,2],[3,1]]: all four tables from the
    # margins are at most as likely as the observed one (5, 30, 30, 5 of 70): p = 1.
    sex = tables["sex"]
    assert sex.unknown == 2
    assert _rows(sex) == {
        "female": (4, 0.5, 1.0, 0.5, 0.6667, True, 1.0, False),
        "male": (4, 0.5, 1.0, 0.75, 1.0, False, None, True),
    }

    # Race or ethnicity: white 5 (4 above, 4 meet), asian 4 (1 above, 2 meet), 1 unknown.
    # Scoring 0.25/0.8 = 0.3125, selection 0.5/0.8 = 0.625. Fisher [[2,2],[4,1]]: tables of
    # weight 6, 45, 60, 15 (of 126); those at most 45: 6 + 45 + 15 = 66, p = 66/126 = 0.5238.
    race = tables["race_ethnicity"]
    assert race.unknown == 1
    assert _rows(race) == {
        "white": (5, 0.8, 1.0, 0.8, 1.0, False, None, True),
        "asian": (4, 0.25, 0.3125, 0.5, 0.625, True, 0.5238, False),
    }
    assert [r.share_of_known for r in race.rows] == [0.5556, 0.4444]

    # The intersection: the reference is the first of the two groups at 2/2 by name.
    # female/asian [[0,2],[2,0]]: weights 1, 4, 1 of 6, p = 2/6 = 0.3333.
    both = tables["sex_x_race_ethnicity"]
    assert both.unknown == 2
    assert _rows(both) == {
        "female / asian": (2, 0.0, 0.0, 0.0, 0.0, True, 0.3333, False),
        "female / white": (2, 1.0, 1.0, 1.0, 1.0, False, None, True),
        "male / asian": (2, 0.5, 0.5, 1.0, 1.0, True, 1.0, False),
        "male / white": (2, 0.5, 0.5, 0.5, 0.5, True, 1.0, False),
    }

    # The "exceeds" band by sex: female 0 of 4, male 1 of 4. Fisher [[0,4],[1,3]]: two tables of
    # weight 35 of 70 each, p = 1.
    assert _rows(tables["sex (exceeds)"]) == {
        "female": (4, None, None, 0.0, 0.0, True, 1.0, False),
        "male": (4, None, None, 0.25, 1.0, False, None, True),
    }

    # "Exceeds" by age band: only 40-54 has anyone there (1 of 2); six did not say.
    age = tables["age_band (exceeds)"]
    assert age.unknown == 6
    assert _rows(age) == {
        "40_54": (2, None, None, 0.5, 1.0, False, None, True),
        "25_39": (1, None, None, 0.0, 0.0, True, 1.0, False),
        "under_25": (1, None, None, 0.0, 0.0, True, 1.0, False),
    }


def test_a_group_under_two_percent_is_reported_but_never_the_reference() -> None:
    outcomes = [_o("female", "white", 50 + i, "meets" if i < 10 else "below") for i in range(50)]
    outcomes.append(_o("male", "white", 99, "exceeds"))  # 1 of 51 = 1.96 %
    sex = next(t for t in adverse_impact(outcomes, measures=["overall"]).tables
               if t.grouping == "sex")
    rows = {r.group: r for r in sex.rows}
    assert rows["male"].under_2_percent and not rows["male"].reference
    assert rows["female"].reference and rows["female"].selection_rate == 0.2
    assert rows["male"].selection_impact_ratio == 5.0 and not rows["male"].four_fifths_flag


def test_self_identification_comes_after_the_interview_and_only_admins_see_the_report(
    sqlite_world: World,
) -> None:
    a = sqlite_world.a
    candidate = sqlite_world.candidate(a)
    answers = {"sex": "female", "race_ethnicity": "asian", "age_band": "40_54"}
    early = candidate.post("/api/v1/candidate/self-identification", json=answers)
    assert early.status_code == 409 and early.json()["error"]["code"] == "interview_not_complete"
    complete_with_score(sqlite_world.a, value=72.0, level=3.5)
    bad = candidate.post("/api/v1/candidate/self-identification", json={"sex": "x"})
    assert bad.status_code == 422
    assert candidate.post("/api/v1/candidate/self-identification", json=answers).status_code == 204

    with unit_of_work() as session:
        stored = session.scalars(select(SelfIdentification)).one()
        given = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "self_identification.given")
        ).one()
    assert (stored.sex, stored.race_ethnicity, stored.age_band) == ("female", "asian", "40_54")
    assert given.data == {"answered": ["age_band", "race_ethnicity", "sex"]}  # never the values

    url = f"/api/v1/roles/{a.role_id}/adverse-impact"
    assert sqlite_world.staff(a, "recruiter").get(url).status_code == 403
    assert sqlite_world.staff(a, "psychologist").get(url).status_code == 403
    admin = sqlite_world.staff(a, "admin")
    report = admin.get(url).json()
    assert report["candidates"] == 1
    sex = next(
        t for t in report["tables"] if t["measure"] == "overall" and t["grouping"] == "sex"
    )
    assert [(r["group"], r["applicants"]) for r in sex["rows"]] == [("female", 1)]
    exported = admin.get(url, params={"fmt": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:4] == ["measure", "category_type", "category", "number_of_applicants"]
    assert rows[1][:4] == ["overall", "sex", "female", "1"]
    with unit_of_work() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"fairness.report_viewed", "fairness.report_exported"} <= actions
    # Another organisation's admin does not see this role at all.
    assert sqlite_world.staff(sqlite_world.b, "admin").get(url).status_code == 404


def test_self_identification_reaches_neither_the_scorer_nor_the_ranking(
    sqlite_world: World,
) -> None:
    a = sqlite_world.a
    complete_with_score(sqlite_world.a, value=64.0, level=3.5)
    recruiter = sqlite_world.staff(a, "recruiter")

    def seen() -> tuple[str, str]:
        ranking = recruiter.get(f"/api/v1/roles/{a.role_id}/candidates")
        detail = recruiter.get(f"/api/v1/interviews/{a.interview_id}")
        return ranking.text, detail.text

    before = seen()
    sqlite_world.candidate(a).post(
        "/api/v1/candidate/self-identification",
        json={"sex": "male", "race_ethnicity": "native_american_or_alaska_native",
              "age_band": "55_plus"},
    )
    after = seen()
    assert after == before  # what recruiters rank and open is byte for byte the same
    assert "native_american" not in after[0] + after[1] and "55_plus" not in after[0] + after[1]

    # And no code on the scoring or ranking path names it (lint-imports also forbids those
    # modules to import services.core.fairness).
    ranking_path = (
        "models/",
        "services/core/scoring/",
        "services/worker/scoring.py",
        "services/core/interviews/review.py",
        "services/api/routers/roles.py",
        "services/api/routers/interviews.py",
    )
    readers = [
        str(p.relative_to(ROOT))
        for folder in ("services", "models")
        for p in (ROOT / folder).rglob("*.py")
        if "SelfIdentification" in p.read_text() or "self_identification" in p.read_text()
    ]
    assert "services/core/fairness/orm.py" in readers
    assert [r for r in readers if r.startswith(ranking_path)] == []
