"""stored standings (overall fit and per-competency bands) for the ranked list

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

The upgrade also fills the standings of interviews scored before it, the way
services/core/scoring/standings.py computes them (written out here, so that this migration keeps
working whatever that module becomes).
"""

import datetime as dt
import statistics
import uuid
import warnings
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fit", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("fit_sort", sa.Float(), server_default="-1", nullable=False)
        )
        batch_op.create_index(
            "ix_interviews_role_fit_sort", ["role_id", "fit_sort", "id"], unique=False
        )
        batch_op.create_index(
            "ix_interviews_role_created", ["role_id", "created_at", "id"], unique=False
        )
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interviews_candidate_id"), ["candidate_id"], unique=False
        )
    op.create_index("ix_candidates_name_lower", "candidates", [sa.text("lower(name)")])
    _trigram_indexes(op.get_bind())
    op.create_table(
        "competency_standings",
        sa.Column("interview_id", sa.String(length=32), nullable=False),
        sa.Column("role_id", sa.String(length=32), nullable=False),
        sa.Column("competency_key", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("model_score", sa.Float(), nullable=False),
        sa.Column("band", sa.String(length=16), nullable=True),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_competency_standings_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_competency_standings_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["job_roles.id"],
            name=op.f("fk_competency_standings_role_id_job_roles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency_standings")),
        sa.UniqueConstraint(
            "interview_id",
            "competency_key",
            name=op.f("uq_competency_standings_interview_id_competency_key"),
        ),
    )
    with op.batch_alter_table("competency_standings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_competency_standings_role_key_band",
            ["role_id", "competency_key", "band", "interview_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_competency_standings_org_id"), ["org_id"], unique=False
        )
    _fill(op.get_bind())


def _trigram_indexes(conn: sa.Connection) -> None:
    """On PostgreSQL, trigram indexes for searching by part of a name or email.

    pg_trgm ships with PostgreSQL; creating it needs the right privilege. Without it the search
    still works, scanning the candidates instead (a warning says so).
    """
    if conn.dialect.name != "postgresql":
        return
    try:
        with conn.begin_nested():
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        warnings.warn("pg_trgm is not available: candidate search will scan the table",
                      stacklevel=1)
        return
    op.create_index("ix_candidates_name_trgm", "candidates",
                    [sa.text("lower(name) gin_trgm_ops")], postgresql_using="gin")
    op.create_index("ix_candidates_email_trgm", "candidates", [sa.text("email gin_trgm_ops")],
                    postgresql_using="gin")


def _fill(conn: sa.Connection) -> None:
    """The standings of every interview already scored."""
    c = sa.column
    answers = sa.table("answers", c("id"), c("interview_id"))
    scores = sa.table("scores", c("answer_id"), c("competency_key"), c("value"),
                      c("model_version"), c("created_at"))
    overrides = sa.table("score_overrides", c("id"), c("interview_id"), c("competency_key"),
                         c("value"), c("created_at"))
    thresholds = sa.table("competency_thresholds", c("role_id"), c("competency_key"),
                          c("required_level"), c("exceeds_level"))
    interviews = sa.table("interviews", c("id"), c("org_id"), c("role_id"), c("fit"),
                          c("fit_sort"))
    standings = sa.table("competency_standings", c("created_at", sa.DateTime(timezone=True)),
                         *(c(name) for name in ("id", "org_id", "interview_id", "role_id",
                                                "competency_key", "score", "model_score", "band",
                                                "answers", "overridden")))
    newest: dict[str, str] = {}
    values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    rows = conn.execute(
        sa.select(answers.c.interview_id, scores.c.answer_id, scores.c.competency_key,
                  scores.c.value, scores.c.model_version)
        .join(answers, answers.c.id == scores.c.answer_id)
        .order_by(scores.c.created_at.desc())
    )
    for interview_id, answer_id, key, value, version in rows:
        if newest.setdefault(answer_id, version) == version:
            values[interview_id][key].append(value)
    overridden: dict[tuple[str, str], float | None] = {}
    for row in conn.execute(sa.select(overrides).order_by(overrides.c.created_at, overrides.c.id)):
        overridden[(row.interview_id, row.competency_key)] = row.value
    levels = {
        (row.role_id, row.competency_key): (row.required_level, row.exceeds_level)
        for row in conn.execute(sa.select(thresholds))
    }
    now = dt.datetime.now(dt.UTC)
    for interview in conn.execute(
        sa.select(interviews.c.id, interviews.c.org_id, interviews.c.role_id)
        .where(interviews.c.id.in_(list(values)))
    ):
        results = []
        for key, found in sorted(values[interview.id].items()):
            mean = round(statistics.fmean(found), 1)
            override = overridden.get((interview.id, key))
            score = mean if override is None else override
            results.append(score)
            conn.execute(standings.insert().values(
                id=uuid.uuid4().hex, org_id=interview.org_id, created_at=now,
                interview_id=interview.id, role_id=interview.role_id, competency_key=key,
                score=score, model_score=mean, answers=len(found),
                overridden=override is not None,
                band=_band(score, levels.get((interview.role_id, key))),
            ))
        fit = round(statistics.fmean(results), 1)
        conn.execute(
            interviews.update().where(interviews.c.id == interview.id)
            .values(fit=fit, fit_sort=fit)
        )


def _band(score: float, levels: tuple[float, float] | None) -> str | None:
    if levels is None:
        return None
    required, exceeds = ((level - 1) / 4 * 100 for level in levels)
    return "exceeds" if score >= exceeds else "meets" if score >= required else "below"


def downgrade() -> None:
    with op.batch_alter_table("competency_standings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_competency_standings_org_id"))
        batch_op.drop_index("ix_competency_standings_role_key_band")
    op.drop_table("competency_standings")
    op.drop_index("ix_candidates_name_lower", table_name="candidates")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_candidates_email_trgm")
        op.execute("DROP INDEX IF EXISTS ix_candidates_name_trgm")
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interviews_candidate_id"))
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_index("ix_interviews_role_created")
        batch_op.drop_index("ix_interviews_role_fit_sort")
        batch_op.drop_column("fit_sort")
        batch_op.drop_column("fit")
