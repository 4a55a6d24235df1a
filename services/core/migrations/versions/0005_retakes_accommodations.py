"""retakes and accommodations

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("extra_think_seconds", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("extra_answer_seconds", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("extra_retakes", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("typed_answers", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retakes_used", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("recorded_chunks", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_column("recorded_chunks")
        batch_op.drop_column("retakes_used")
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_column("typed_answers")
        batch_op.drop_column("extra_retakes")
        batch_op.drop_column("extra_answer_seconds")
        batch_op.drop_column("extra_think_seconds")
