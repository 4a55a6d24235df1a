"""Stored standings: each interview's fit and per-competency bands, kept for the ranked list.

scoring/review.py computes a candidate's results from the scores, the overrides and the role's
thresholds; doing that per request is fine for one candidate and far too slow for a role of
100,000. So the result is stored (Interview.fit, CompetencyStanding) and kept current at each
event that changes it, in the same transaction:

- an answer scored (worker/scoring.py) or a score overridden (scoring/overrides.py): `refresh`
- a role's thresholds changed (roles/service.py): `reband`, one UPDATE per competency

The list then filters, sorts and pages in the database (`page`), with keyset pagination so a
deep page costs what the first one does. Ranking orders and filters on request; it never hides:
with no filter every candidate of the role is there.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy import Integer as SqlInteger
from sqlalchemy.orm import Session, lazyload

from services.core.errors import Invalid
from services.core.interviews.orm import Answer, Candidate, Interview
from services.core.interviews.states import AnswerState, InterviewState
from services.core.roles.orm import JobRole
from services.core.scoring import review
from services.core.scoring.orm import CompetencyStanding
from services.core.scoring.service import BELOW, EXCEEDS, MEETS, level_score

UNSCORED = -1.0
BANDS = (BELOW, MEETS, EXCEEDS)
BINS = 20  # the score distribution's bins: [0, 5), [5, 10), ... [95, 100]


def refresh(session: Session, *, interview_ids: Iterable[str]) -> None:
    """Recompute and store the standing of each interview from its scores and overrides."""
    for interview_id in dict.fromkeys(interview_ids):
        # Locked first (PostgreSQL; SQLite has one writer anyway): two answers of one interview
        # scored at once refresh one after the other, the second seeing the first's score.
        interview = session.scalars(
            select(Interview).where(Interview.id == interview_id)
            .with_for_update(of=Interview).execution_options(populate_existing=True)
        ).first()
        if interview is None:
            continue
        answer_scores = review.scores_of(session, answer_ids=[a.id for a in interview.answers])
        results = review.competencies_of(session, interview=interview, scores=answer_scores)
        session.execute(
            delete(CompetencyStanding).where(CompetencyStanding.interview_id == interview.id)
        )
        session.add_all(
            CompetencyStanding(
                org_id=interview.org_id,
                interview_id=interview.id,
                role_id=interview.role_id,
                competency_key=r.key,
                score=r.score,
                model_score=r.model_score if r.model_score is not None else r.score,
                band=r.band,
                answers=r.answers,
                overridden=r.override is not None,
            )
            for r in results
        )
        interview.fit = review.overall_fit(results)
        interview.fit_sort = UNSCORED if interview.fit is None else interview.fit
    session.flush()


def reband(session: Session, *, role: JobRole) -> None:
    """Put every candidate of a role in the bands of its current thresholds (fit is unchanged)."""
    thresholds = {t.competency_key: t for t in role.thresholds}
    of_role = CompetencyStanding.role_id == role.id
    for key, t in thresholds.items():
        required, exceeds = level_score(t.required_level), level_score(t.exceeds_level)
        session.execute(
            update(CompetencyStanding)
            .where(of_role, CompetencyStanding.competency_key == key)
            .values(band=case(
                (CompetencyStanding.score >= exceeds, EXCEEDS),
                (CompetencyStanding.score >= required, MEETS),
                else_=BELOW,
            ))
        )
    session.execute(
        update(CompetencyStanding)
        .where(of_role, CompetencyStanding.competency_key.not_in(list(thresholds)))
        .values(band=None)
    )


def distribution(session: Session, *, role_id: str) -> dict[str, list[int]]:
    """Per competency, how many of the role's candidates score in each 5-point bin of 0-100."""
    # Scores are never negative, so truncation is flooring; PostgreSQL's cast rounds, hence floor
    # there (SQLite may lack it, and truncates).
    scaled = CompetencyStanding.score / (100 / BINS)
    if session.get_bind().dialect.name == "postgresql":
        scaled = func.floor(scaled)
    bin_of = case((CompetencyStanding.score >= 100, BINS - 1), else_=cast(scaled, SqlInteger))
    rows = session.execute(
        select(CompetencyStanding.competency_key, bin_of, func.count())
        .where(CompetencyStanding.role_id == role_id)
        .group_by(CompetencyStanding.competency_key, bin_of)
    )
    counts: dict[str, list[int]] = {}
    for key, index, n in rows:
        counts.setdefault(key, [0] * BINS)[max(0, min(BINS - 1, int(index)))] += n
    return counts


# ---------------------------------------------------------------- the ranked list

SORTS = ("fit", "newest", "name")
ATTENTION = ("human_review", "deletion", "failed")


@dataclass(frozen=True)
class Filters:
    """What a recruiter narrows the list to; every field empty shows every candidate."""

    states: Sequence[str] = ()
    statuses: Sequence[str] = ()
    bands: Sequence[tuple[str, str]] = ()  # (competency key, band): all must hold
    search: str = ""  # part of the candidate's name or email
    scored: bool | None = None
    attention: str | None = None  # asked for a human review, asked for deletion, or a failed answer


@dataclass(frozen=True)
class Page:
    """One page of the list. `standings` and `answers` hold plain rows (the columns the list
    shows, by interview id), read in one query each rather than as ORM objects."""

    interviews: list[Interview]
    standings: dict[str, list[Row[Any]]]
    answers: dict[str, list[Row[Any]]]
    total: int | None  # None on the pages after the first; at most COUNT_CAP
    next_cursor: str | None
    thresholds: dict[str, tuple[float, float]] = field(default_factory=dict)
    total_capped: bool = False  # more than `total` match: count() says how many


# The first page counts its matches up to this many and says "more" beyond: an exact count of
# 7,000 matches of two band filters costs more than the page itself (docs/performance.md), and
# `count` gives the exact figure to those who ask, a moment later.
COUNT_CAP = 1000

_STANDING_COLUMNS = (
    CompetencyStanding.interview_id, CompetencyStanding.competency_key, CompetencyStanding.score,
    CompetencyStanding.model_score, CompetencyStanding.band, CompetencyStanding.answers,
    CompetencyStanding.overridden,
)
_ANSWER_COLUMNS = (
    Answer.interview_id, Answer.id, Answer.question_id, Answer.state, Answer.failure_code,
    Answer.failure_reason, Answer.retakes_used,
)


def parse_band(text: str) -> tuple[str, str]:
    key, _, wanted = text.partition(":")
    if not key or wanted not in BANDS:
        raise Invalid(
            f"A band filter reads competency:band, the band one of {', '.join(BANDS)}.",
            code="bad_filter",
            field="band",
        )
    return key, wanted


def _conditions(session: Session, role_id: str, filters: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Interview.role_id == role_id]
    if filters.states:
        known = {s.value for s in InterviewState}
        if unknown := set(filters.states) - known:
            raise Invalid(f"Unknown interview state {sorted(unknown)[0]!r}.", code="bad_filter",
                          field="state")
        where.append(Interview.state.in_([InterviewState(s) for s in filters.states]))
    if filters.statuses:
        where.append(Interview.status.in_(list(filters.statuses)))
    # The table, not the ORM class: rows of the role are the organisation's already, and without
    # the organisation criterion the (role, competency, band, interview) index answers alone.
    standing = CompetencyStanding.__table__.c
    for key, wanted in filters.bands:
        where.append(Interview.id.in_(
            select(standing.interview_id).where(
                standing.role_id == role_id,
                standing.competency_key == key,
                standing.band == wanted,
            )
        ))
    if filters.scored is not None:
        where.append(Interview.fit_sort >= 0 if filters.scored else Interview.fit_sort < 0)
    if filters.attention == "human_review":
        where.append(Interview.human_review_requested_at.is_not(None))
    elif filters.attention == "deletion":
        where.append(Interview.deletion_due_at.is_not(None))
    elif filters.attention == "failed":
        where.append(exists().where(
            Answer.interview_id == Interview.id, Answer.state == AnswerState.FAILED
        ))
    elif filters.attention is not None:
        raise Invalid(f"attention is one of {', '.join(ATTENTION)}.", code="bad_filter",
                      field="attention")
    if text := filters.search.strip().lower():
        where.append(_searched(session, text))
    return where


SEARCH_IDS = 2000


def _searched(session: Session, text: str) -> ColumnElement[bool]:
    """Candidates whose name or email holds `text` (LIKE's wildcards taken literally).

    A narrow search (the usual: part of a name) is resolved to its candidates first, through the
    trigram indexes, so the list query looks only at those; a broad one stays a subquery, and
    walking the fit order meets its matches soon. Either way the planner cannot mistake one for
    the other.
    """
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    matching = select(Candidate.id).where(
        func.lower(Candidate.name).like(pattern, escape="\\")
        | Candidate.email.like(pattern, escape="\\"),
    )
    ids = session.scalars(matching.limit(SEARCH_IDS + 1)).all()
    if len(ids) <= SEARCH_IDS:
        return Interview.candidate_id.in_(ids) if ids else false()
    return Interview.candidate_id.in_(matching)


def _order(sort: str) -> tuple[list[ColumnElement[object]], bool]:
    """The sort's columns (the interview id last, so the order is total) and whether descending."""
    if sort == "fit":
        return [Interview.fit_sort, Interview.id], True
    if sort == "newest":
        return [Interview.created_at, Interview.id], True
    if sort == "name":
        return [func.lower(Candidate.name), Interview.id], False
    raise Invalid(f"sort is one of {', '.join(SORTS)}.", code="bad_sort", field="sort")


def _encode(sort: str, values: Sequence[object]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps([sort, *plain]).encode()).decode().rstrip("=")


def _decode(sort: str, cursor: str) -> list[object]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or raw[0] != sort or len(raw) != 3:
            raise ValueError
        first, last = raw[1], raw[2]
        if not isinstance(last, str):
            raise ValueError
        if sort == "fit":
            first = float(first)
        elif sort == "newest":
            first = dt.datetime.fromisoformat(first)
        elif not isinstance(first, str):
            raise ValueError
    except (ValueError, TypeError, IndexError, binascii.Error, UnicodeDecodeError):
        raise Invalid("This page link is not valid; start from the first page.",
                      code="bad_cursor", field="cursor") from None
    return [first, last]


def page(
    session: Session,
    *,
    role_id: str,
    filters: Filters = Filters(),
    sort: str = "fit",
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """One page of a role's candidates, filtered and sorted in the database."""
    role = session.get(JobRole, role_id)
    columns, descending = _order(sort)
    where = _conditions(session, role_id, filters)
    # Counted with the first page only, and only up to COUNT_CAP: the pages after it, reached
    # by cursor, cost what a first page without the count costs, however deep.
    total = None if cursor else _count(session, where, cap=COUNT_CAP)
    query = (
        select(Interview, columns[0])
        .where(*where)
        .options(lazyload(Interview.answers))  # read below, only the columns shown
        .limit(limit + 1)
    )
    if sort == "name":
        query = query.join(Candidate, Candidate.id == Interview.candidate_id)
    if cursor:
        position = tuple_(*columns)
        after = tuple_(*_decode(sort, cursor))
        query = query.where(position < after if descending else position > after)
    query = query.order_by(*(c.desc() if descending else c.asc() for c in columns))
    found = list(session.execute(query).unique())
    more = len(found) > limit
    found = found[:limit]
    rows = [interview for interview, _ in found]
    standings: dict[str, list[Row[Any]]] = {r.id: [] for r in rows}
    answers: dict[str, list[Row[Any]]] = {r.id: [] for r in rows}
    if rows:
        for row in session.execute(
            select(*_STANDING_COLUMNS)
            .where(CompetencyStanding.interview_id.in_(list(standings)))
            .order_by(CompetencyStanding.competency_key)
        ):
            standings[row.interview_id].append(row)
        for row in session.execute(
            select(*_ANSWER_COLUMNS)
            .where(Answer.interview_id.in_(list(answers)))
            .order_by(Answer.created_at)
        ):
            answers[row.interview_id].append(row)
    next_cursor = None
    if more and found:
        last, key = found[-1]
        next_cursor = _encode(sort, [key, last.id])
    thresholds = {
        t.competency_key: (t.required_level, t.exceeds_level) for t in (role.thresholds if role else [])
    }
    capped = total is not None and total > COUNT_CAP
    return Page(rows, standings, answers, min(total, COUNT_CAP) if total is not None else None,
                next_cursor, thresholds, capped)


def count(session: Session, *, role_id: str, filters: Filters = Filters()) -> int:
    """How many of a role's candidates match the filters, exactly."""
    return _count(session, _conditions(session, role_id, filters), cap=None)


def _count(session: Session, where: list[ColumnElement[bool]], *, cap: int | None) -> int:
    """The matches, or cap + 1 when there are more than `cap`: the scan stops there."""
    matching = select(Interview.id).where(*where)
    if cap is not None:
        matching = matching.limit(cap + 1)
    return session.scalar(select(func.count()).select_from(matching.subquery())) or 0
