"""The adverse-impact report: how each group fares on a role's scores and bands.

The calculation follows the bias-audit summary of New York City's Local Law 144 (DCWP rules,
2023): per category, the number of applicants, the scoring rate (the share scoring above the
median of everyone assessed) and the selection rate (here: the share in the "meets" band or
better), each group's impact ratio against the group with the highest rate, the four-fifths
flag (an impact ratio under 0.8), and Fisher's exact test of each group against that group
(suited to the small samples of one role). Groups under 2% of the known total are reported and
marked, and are never the reference group; candidates who did not say or preferred not to are
counted as "unknown" and left out of the ratios, as the rules require.

Pure functions over plain rows: `outcomes_for_role` is the only part that reads the database.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from scipy.stats import fisher_exact
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.fairness.orm import SelfIdentification
from services.core.fairness.service import PREFER_NOT_TO_SAY
from services.core.interviews.orm import Interview
from services.core.roles.orm import JobRole
from services.core.scoring import review
from services.core.scoring.orm import CompetencyStanding
from services.core.scoring.service import band

UNKNOWN = "unknown"
SMALL_SHARE = 0.02
FOUR_FIFTHS = 0.8
DECIMALS = 4
OVERALL = "overall"


@dataclass(frozen=True)
class Outcome:
    """One assessed candidate: scores and bands per measure, and what they told about themselves.

    `scores` and `bands` are keyed by measure: "overall" and each competency key.
    """

    scores: dict[str, float]
    bands: dict[str, str | None]
    sex: str | None = None
    race_ethnicity: str | None = None
    age_band: str | None = None


@dataclass(frozen=True)
class GroupRow:
    group: str
    applicants: int
    share_of_known: float | None
    scoring_rate: float | None
    scoring_impact_ratio: float | None
    selection_rate: float | None
    selection_impact_ratio: float | None
    four_fifths_flag: bool
    fisher_p: float | None
    under_2_percent: bool
    reference: bool


@dataclass(frozen=True)
class Table:
    measure: str
    grouping: str
    median_score: float
    rows: list[GroupRow]
    unknown: int


@dataclass
class Report:
    candidates: int
    tables: list[Table] = field(default_factory=list)


def _known(value: str | None) -> str | None:
    return None if value in (None, "", PREFER_NOT_TO_SAY) else value


GROUPINGS: dict[str, Callable[[Outcome], str | None]] = {
    "sex": lambda o: _known(o.sex),
    "race_ethnicity": lambda o: _known(o.race_ethnicity),
    "sex_x_race_ethnicity": lambda o: (
        f"{o.sex} / {o.race_ethnicity}"
        if _known(o.sex) and _known(o.race_ethnicity)
        else None
    ),
}


def _r(value: float) -> float:
    return round(value, DECIMALS)


def _fisher(hits: int, n: int, ref_hits: int, ref_n: int) -> float:
    _, p = fisher_exact([[hits, n - hits], [ref_hits, ref_n - ref_hits]])
    return _r(float(p))


def _table(
    outcomes: Sequence[Outcome],
    *,
    measure: str,
    grouping: str,
    group_of: Callable[[Outcome], str | None],
    selected: Callable[[Outcome], bool],
    with_scoring_rate: bool = True,
) -> Table:
    assessed = [o for o in outcomes if measure in o.scores]
    median = statistics.median(o.scores[measure] for o in assessed) if assessed else 0.0
    groups: dict[str, list[Outcome]] = {}
    unknown = 0
    for outcome in assessed:
        group = group_of(outcome)
        if group is None:
            unknown += 1
        else:
            groups.setdefault(group, []).append(outcome)
    known = sum(len(members) for members in groups.values())

    def counts(members: list[Outcome]) -> tuple[int, int]:
        above = sum(1 for o in members if o.scores[measure] > median)
        return above, sum(1 for o in members if selected(o))

    tallies = {g: (len(m), *counts(m)) for g, m in groups.items()}
    small = {g for g, (n, _, _) in tallies.items() if known and n / known < SMALL_SHARE}
    eligible = [g for g in tallies if g not in small] or list(tallies)

    def best(index: int) -> str | None:
        if not eligible:
            return None
        return max(sorted(eligible), key=lambda g: tallies[g][index] / tallies[g][0])

    ref_scoring, ref_selection = best(1), best(2)
    rows = []
    for group in sorted(tallies, key=lambda g: (-tallies[g][0], g)):
        n, above, chosen = tallies[group]
        scoring_rate, selection_rate = above / n, chosen / n
        scoring_ratio = selection_ratio = None
        if ref_scoring is not None and with_scoring_rate:
            ref = tallies[ref_scoring][1] / tallies[ref_scoring][0]
            scoring_ratio = _r(scoring_rate / ref) if ref else None
        if ref_selection is not None:
            ref = tallies[ref_selection][2] / tallies[ref_selection][0]
            selection_ratio = _r(selection_rate / ref) if ref else None
        ref_n, _, ref_chosen = tallies[ref_selection] if ref_selection else (0, 0, 0)
        ratios = [r for r in (scoring_ratio, selection_ratio) if r is not None]
        rows.append(
            GroupRow(
                group=group,
                applicants=n,
                share_of_known=_r(n / known) if known else None,
                scoring_rate=_r(scoring_rate) if with_scoring_rate else None,
                scoring_impact_ratio=scoring_ratio,
                selection_rate=_r(selection_rate),
                selection_impact_ratio=selection_ratio,
                four_fifths_flag=group not in small and any(r < FOUR_FIFTHS for r in ratios),
                fisher_p=None
                if group == ref_selection or ref_selection is None
                else _fisher(chosen, n, ref_chosen, ref_n),
                under_2_percent=group in small,
                reference=group == ref_selection,
            )
        )
    return Table(measure, grouping, _r(median), rows, unknown)


def meets_or_better(measure: str) -> Callable[[Outcome], bool]:
    return lambda o: o.bands.get(measure) in ("meets", "exceeds")


def exceeds(measure: str) -> Callable[[Outcome], bool]:
    return lambda o: o.bands.get(measure) == "exceeds"


def adverse_impact(outcomes: Sequence[Outcome], *, measures: Iterable[str]) -> Report:
    """Every table: per measure, band ("meets" or better; "exceeds") and grouping, and the
    "exceeds" band by age band."""
    report = Report(candidates=len(outcomes))
    for measure in measures:
        for band_name, selected in (("", meets_or_better(measure)), (" (exceeds)", exceeds(measure))):
            for grouping, group_of in GROUPINGS.items():
                report.tables.append(
                    _table(
                        outcomes,
                        measure=measure,
                        grouping=grouping + band_name,
                        group_of=group_of,
                        selected=selected,
                        with_scoring_rate=not band_name,
                    )
                )
        report.tables.append(
            _table(
                outcomes,
                measure=measure,
                grouping="age_band (exceeds)",
                group_of=lambda o: _known(o.age_band),
                selected=exceeds(measure),
                with_scoring_rate=False,
            )
        )
    return report


def overall_band(results: list[review.CompetencyResult]) -> str | None:
    """"below" if any competency with a threshold is below, "exceeds" if all exceed, else "meets"."""
    bands = [r.band for r in results if r.band is not None]
    if not bands:
        return None
    if "below" in bands:
        return "below"
    return "exceeds" if all(b == "exceeds" for b in bands) else "meets"


def outcomes_for_role(session: Session, *, role_id: str) -> tuple[list[Outcome], list[str]]:
    """Every scored interview of the role with its self-identification; and the measures.

    Read from the stored standings (scoring/standings.py), so a role of any size is one query.
    The tool's own output is what a bias audit measures: people's overrides are left out, so
    each competency counts at the model's score and is banded again from it.
    """
    role = session.get(JobRole, role_id)
    thresholds = {t.competency_key: t for t in role.thresholds} if role else {}
    by_interview: dict[str, list[review.CompetencyResult]] = {}
    for row in session.execute(
        select(CompetencyStanding.interview_id, CompetencyStanding.competency_key,
               CompetencyStanding.model_score, CompetencyStanding.answers)
        .where(CompetencyStanding.role_id == role_id)
        .order_by(CompetencyStanding.interview_id, CompetencyStanding.competency_key)
    ):
        threshold = thresholds.get(row.competency_key)
        by_interview.setdefault(row.interview_id, []).append(review.CompetencyResult(
            key=row.competency_key, score=row.model_score,
            band=band(row.model_score, threshold),
            required_level=threshold.required_level if threshold else None,
            exceeds_level=threshold.exceeds_level if threshold else None,
            answers=row.answers, model_score=row.model_score,
        ))
    identities = {
        s.interview_id: s
        for s in session.scalars(
            select(SelfIdentification)
            .join(Interview, Interview.id == SelfIdentification.interview_id)
            .where(Interview.role_id == role_id)
        )
    }
    outcomes, keys = [], set()
    for interview_id, competencies in by_interview.items():
        scores = {c.key: c.score for c in competencies}
        bands: dict[str, str | None] = {c.key: c.band for c in competencies}
        keys |= set(scores)
        fit = review.overall_fit(competencies)
        assert fit is not None
        scores[OVERALL], bands[OVERALL] = fit, overall_band(competencies)
        who = identities.get(interview_id)
        outcomes.append(
            Outcome(
                scores=scores,
                bands=bands,
                sex=who.sex if who else None,
                race_ethnicity=who.race_ethnicity if who else None,
                age_band=who.age_band if who else None,
            )
        )
    return outcomes, [OVERALL, *sorted(keys)]


CSV_COLUMNS = (
    "measure",
    "category_type",
    "category",
    "number_of_applicants",
    "scoring_rate",
    "scoring_impact_ratio",
    "selection_rate",
    "selection_impact_ratio",
    "four_fifths_flag",
    "fisher_exact_p",
    "under_2_percent",
    "reference_group",
)


def csv_rows(report: Report) -> list[list[object]]:
    """The report as rows of a bias-audit summary: one per category, then each table's unknowns."""
    out: list[list[object]] = [list(CSV_COLUMNS)]
    for table in report.tables:
        for row in table.rows:
            out.append([
                table.measure, table.grouping, row.group, row.applicants,
                row.scoring_rate, row.scoring_impact_ratio, row.selection_rate,
                row.selection_impact_ratio, row.four_fifths_flag, row.fisher_p,
                row.under_2_percent, row.reference,
            ])
        out.append([table.measure, table.grouping, UNKNOWN, table.unknown,
                    "", "", "", "", "", "", "", ""])
    return out
