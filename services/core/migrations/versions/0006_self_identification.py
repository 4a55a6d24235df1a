"""voluntary self-identification, stored apart

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "self_identifications",
        sa.Column("interview_id", sa.String(length=32), nullable=False),
        sa.Column("sex", sa.String(length=32), nullable=True),
        sa.Column("race_ethnicity", sa.String(length=64), nullable=True),
        sa.Column("age_band", sa.String(length=32), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_self_identifications_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_self_identifications_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_identifications")),
        sa.UniqueConstraint("interview_id", name=op.f("uq_self_identifications_interview_id")),
    )
    op.create_index(
        op.f("ix_self_identifications_org_id"), "self_identifications", ["org_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_self_identifications_org_id"), table_name="self_identifications")
    op.drop_table("self_identifications")
