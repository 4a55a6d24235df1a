"""Rubric versions: import from a document, read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core.errors import NotFound
from services.core.rubrics.orm import AnchoredLevel, Competency, Indicator, Rubric, RubricVersion


def import_rubric(session: Session, *, org_id: str, document: dict[str, Any]) -> RubricVersion:
    """Store a rubric document as the next version of the organisation's rubric of that name."""
    rubric = session.scalar(select(Rubric).where(Rubric.name == document["name"]))
    if rubric is None:
        rubric = Rubric(org_id=org_id, name=document["name"])
        session.add(rubric)
        session.flush()
    latest = session.scalar(
        select(func.max(RubricVersion.version)).where(RubricVersion.rubric_id == rubric.id)
    )
    version = RubricVersion(org_id=org_id, rubric_id=rubric.id, version=(latest or 0) + 1)
    for c_pos, comp in enumerate(document["competencies"]):
        competency = Competency(
            org_id=org_id,
            key=comp["key"],
            name=comp["name"],
            description=comp.get("description", ""),
            position=c_pos,
        )
        for i_pos, ind in enumerate(comp["indicators"]):
            indicator = Indicator(org_id=org_id, key=ind["key"], text=ind["text"], position=i_pos)
            indicator.levels = [
                AnchoredLevel(
                    org_id=org_id,
                    level=lv["level"],
                    label=lv["label"],
                    anchor=lv["anchor"],
                    examples=list(lv.get("examples", [])),
                )
                for lv in ind["levels"]
            ]
            competency.indicators.append(indicator)
        version.competencies.append(competency)
    session.add(version)
    session.flush()
    return version


def list_versions(session: Session) -> list[RubricVersion]:
    return list(session.scalars(select(RubricVersion).order_by(RubricVersion.created_at)))


def get_version(session: Session, *, rubric_version_id: str) -> RubricVersion:
    version = session.get(RubricVersion, rubric_version_id)
    if version is None:
        raise NotFound("No such rubric version.")
    return version
