"""recruiters' notes and candidates' CVs

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "interview_notes",
        sa.Column("interview_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_interview_notes_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_interview_notes_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_interview_notes_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_notes")),
    )
    with op.batch_alter_table("interview_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interview_notes_interview_id"), ["interview_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_interview_notes_org_id"), ["org_id"], unique=False)
    op.create_table(
        "interview_cvs",
        sa.Column("interview_id", sa.String(length=32), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.String(length=32), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_interview_cvs_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_interview_cvs_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_interview_cvs_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_cvs")),
        sa.UniqueConstraint("interview_id", name=op.f("uq_interview_cvs_interview_id")),
    )
    with op.batch_alter_table("interview_cvs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interview_cvs_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("interview_cvs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interview_cvs_org_id"))
    op.drop_table("interview_cvs")
    with op.batch_alter_table("interview_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interview_notes_org_id"))
        batch_op.drop_index(batch_op.f("ix_interview_notes_interview_id"))
    op.drop_table("interview_notes")
