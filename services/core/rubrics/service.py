"""Rubric versions: import from a document or a spreadsheet, read, export."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.errors import Invalid, NotFound
from services.core.rubrics import spreadsheet
from services.core.rubrics.orm import AnchoredLevel, Competency, Indicator, Rubric, RubricVersion

DATA = Path(__file__).parent / "data"


def default_rubric() -> dict[str, Any]:
    """The rubric Parley ships: six competencies, their indicators and anchored levels."""
    return dict(json.loads((DATA / "default_rubric.json").read_text(encoding="utf-8")))


def import_rubric(session: Session, *, org_id: str, document: dict[str, Any]) -> RubricVersion:
    """Store a rubric document as the next version of the organisation's rubric of that name."""
    # org_id named explicitly: seeding and the CLI run without an organisation scope. The row
    # lock makes two concurrent imports of one rubric take consecutive version numbers.
    rubric = session.scalar(
        select(Rubric)
        .where(Rubric.org_id == org_id, Rubric.name == document["name"])
        .with_for_update()
    )
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


@dataclass(frozen=True)
class RubricFile:
    filename: str
    content_type: str
    data: bytes


def export_version(session: Session, *, rubric_version_id: str, fmt: str) -> RubricFile:
    """The version as a CSV or XLSX spreadsheet, one row per anchored level."""
    version = get_version(session, rubric_version_id=rubric_version_id)
    data = spreadsheet.export_rubric(version, fmt)
    stem = re.sub(r"[^a-z0-9]+", "-", version.rubric.name.lower()).strip("-") or "rubric"
    return RubricFile(
        filename=f"{stem}-v{version.version}.{fmt}",
        content_type=spreadsheet.CONTENT_TYPES[fmt],
        data=data,
    )


def import_spreadsheet(
    session: Session, *, org_id: str, actor: str, name: str, data: bytes, fmt: str
) -> RubricVersion:
    """Store a CSV or XLSX rubric as the next version of the rubric `name`; earlier ones stay."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise Invalid(
            "A rubric name has 1 to 200 characters.", code="bad_rubric_name", field="name"
        )
    document = spreadsheet.parse_rubric(data, fmt, name=name)
    version = import_rubric(session, org_id=org_id, document=document)
    audit.record(
        session,
        org_id=org_id,
        actor=actor,
        action="rubric.import",
        subject=f"rubric_version:{version.id}",
        data={
            "name": name,
            "version": version.version,
            "format": fmt,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    return version


def save_edited(
    session: Session, *, org_id: str, actor: str, document: dict[str, Any]
) -> RubricVersion:
    """An edit made in the app becomes the next version; the one it started from stays as it was."""
    _check_document(document)
    version = import_rubric(session, org_id=org_id, document=document)
    audit.record(
        session,
        org_id=org_id,
        actor=actor,
        action="rubric.edit",
        subject=f"rubric_version:{version.id}",
        data={"name": document["name"], "version": version.version},
    )
    return version


def _check_document(document: dict[str, Any]) -> None:
    competency_keys = [c["key"] for c in document["competencies"]]
    if len(set(competency_keys)) != len(competency_keys):
        raise Invalid("Each competency needs its own key.", code="duplicate_key",
                      field="competencies")
    indicator_keys = [i["key"] for c in document["competencies"] for i in c["indicators"]]
    if len(set(indicator_keys)) != len(indicator_keys):
        raise Invalid("Each indicator needs its own key.", code="duplicate_key",
                      field="indicators")
    for competency in document["competencies"]:
        for indicator in competency["indicators"]:
            levels = sorted(lv["level"] for lv in indicator["levels"])
            if levels != list(range(1, len(levels) + 1)):
                raise Invalid(
                    f"The levels of '{indicator['text']}' must run 1, 2, 3... without gaps "
                    f"or repeats (got {levels}).",
                    code="bad_levels",
                    field="levels",
                )
