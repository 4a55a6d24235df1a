"""feedback reports to candidates, per role

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job_roles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("feedback_enabled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("feedback_delay_days", sa.Integer(), server_default="3", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("job_roles", schema=None) as batch_op:
        batch_op.drop_column("feedback_delay_days")
        batch_op.drop_column("feedback_enabled")
