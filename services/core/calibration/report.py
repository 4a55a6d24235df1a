"""The agreement report of a batch: per criterion, the blind round, the calibration session's
answers before and after their re-score, and the final labels; as data and as CSV."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from sqlalchemy.orm import Session

from services.core.calibration import service
from services.core.calibration.agreement import panel_agreement
from services.core.calibration.orm import LabelBatch
from services.core.calibration.service import BLIND, RESCORE, RevealedAnswer


def agreement_report(session: Session, *, batch: LabelBatch) -> dict[str, Any]:
    """Agreement over revealed answers only, so no pending label ever shapes a figure."""
    items = service.revealed(session, batch=batch)
    by_criterion: dict[str, list[RevealedAnswer]] = defaultdict(list)
    for item in items:
        by_criterion[item.competency_key].append(item)
    criteria = []
    for key in sorted(by_criterion):
        group = by_criterion[key]
        competency = service.competency_of(session, batch.rubric_version_id, key)
        levels = service.levels_of(competency)
        criteria.append({
            "criterion": key,
            "name": competency.name if competency else key,
            "levels": levels,
            **_scopes(group, levels),
        })
    return {
        "batch_id": batch.id,
        "revealed_answers": len(items),
        "session_open": batch.session_started_at is not None,
        "criteria": criteria,
        "overall": _scopes(items, None),
    }


def _scopes(items: list[RevealedAnswer], levels: list[int] | None) -> dict[str, Any]:
    first = {i.answer_id: i.ratings(BLIND) for i in items}
    rescored = [i for i in items if RESCORE in i.rounds]
    final = {i.answer_id: (i.ratings(RESCORE) if RESCORE in i.rounds else i.ratings(BLIND))
             for i in items}
    return {
        "first_round": panel_agreement(first, levels=levels).as_dict() if items else None,
        "session": {
            "answers": len(rescored),
            "before": panel_agreement({i.answer_id: i.ratings(BLIND) for i in rescored},
                                      levels=levels).as_dict(),
            "after": panel_agreement({i.answer_id: i.ratings(RESCORE) for i in rescored},
                                     levels=levels).as_dict(),
        } if rescored else None,
        "final": panel_agreement(final, levels=levels).as_dict() if items else None,
    }


SUMMARY_FIELDS = ("n_items", "n_raters", "n_ratings", "alpha", "qwk", "exact", "adjacent")


def agreement_csv(report: dict[str, Any]) -> str:
    """One row per criterion, scope and figure: what a psychologist pastes into a paper."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["criterion", "scope", "statistic", "subject", "value", "n"])
    for entry in [*report["criteria"], {"criterion": "(all)", **report["overall"]}]:
        scopes = [("first_round", entry["first_round"]), ("final", entry["final"])]
        if entry["session"]:
            scopes += [("session_before", entry["session"]["before"]),
                       ("session_after", entry["session"]["after"])]
        for scope, figures in scopes:
            if figures is None:
                continue
            for row in _rows(figures):
                writer.writerow([entry["criterion"], scope, *row])
    return out.getvalue()


def _rows(figures: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [[name, "", figures.get(name), figures.get("n_items")]
                             for name in SUMMARY_FIELDS if name in figures]
    icc = figures.get("icc")
    if icc:
        rows += [[name, "", icc.get(name), icc.get("items")] for name in ("icc21", "icc2k")]
    for pair in figures.get("pairwise", []):
        rows.append(["qwk", f"{pair['a']} & {pair['b']}", pair["qwk"], pair["n"]])
    for drift in figures.get("drift", []):
        rows.append(["drift", drift["rater"], drift["mean"], drift["n"]])
    return rows
