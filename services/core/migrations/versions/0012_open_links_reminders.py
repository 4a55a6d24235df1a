"""open invite links per role and invitation reminders

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "open_links",
        sa.Column("role_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_candidates", sa.Integer(), nullable=True),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.String(length=32), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_open_links_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_open_links_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["job_roles.id"],
            name=op.f("fk_open_links_role_id_job_roles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_open_links_token_hash")),
    )
    with op.batch_alter_table("open_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open_links_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_open_links_role_id"), ["role_id"], unique=False)
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open_link_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_invitations_open_link_id"), ["open_link_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_invitations_open_link_id_open_links"),
            "open_links",
            ["open_link_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_invitations_open_link_id_open_links"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_invitations_open_link_id"))
        batch_op.drop_column("resent_at")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("open_link_id")
    with op.batch_alter_table("open_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open_links_role_id"))
        batch_op.drop_index(batch_op.f("ix_open_links_org_id"))
    op.drop_table("open_links")
