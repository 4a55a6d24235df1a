"""score overrides by a person, with a reason

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "score_overrides",
        sa.Column("interview_id", sa.String(length=32), nullable=False),
        sa.Column("competency_key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_score_overrides_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_score_overrides_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_score_overrides_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_overrides")),
    )
    with op.batch_alter_table("score_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_score_overrides_interview_id"), ["interview_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_score_overrides_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("score_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_overrides_org_id"))
        batch_op.drop_index(batch_op.f("ix_score_overrides_interview_id"))
    op.drop_table("score_overrides")
