"""candidate data rights: deletion and human-review requests

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deletion_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("deletion_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("human_review_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("human_review_message", sa.Text(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_interviews_deletion_due_at"), ["deletion_due_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interviews_deletion_due_at"))
        batch_op.drop_column("human_review_message")
        batch_op.drop_column("human_review_requested_at")
        batch_op.drop_column("deletion_due_at")
        batch_op.drop_column("deletion_requested_at")
