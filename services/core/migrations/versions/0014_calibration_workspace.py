"""the psychologists' calibration workspace: labelling batches, assignments, snapshots, promotions

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 08:00:37.626592
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "label_batches",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role_id", sa.String(length=32), nullable=True),
        sa.Column("rubric_version_id", sa.String(length=32), nullable=False),
        sa.Column("raters_per_answer", sa.Integer(), nullable=False),
        sa.Column("rater_ids", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=True),
        sa.Column("session_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_label_batches_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_label_batches_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["job_roles.id"],
            name=op.f("fk_label_batches_role_id_job_roles"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rubric_version_id"],
            ["rubric_versions.id"],
            name=op.f("fk_label_batches_rubric_version_id_rubric_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_batches")),
    )
    with op.batch_alter_table("label_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_label_batches_org_id"), ["org_id"], unique=False)

    op.create_table(
        "training_snapshots",
        sa.Column("batch_id", sa.String(length=32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rubric_version_id", sa.String(length=32), nullable=False),
        sa.Column("aggregate", sa.String(length=16), nullable=False),
        sa.Column("rater_ids", sa.JSON(), nullable=False),
        sa.Column("answer_ids", sa.JSON(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("data_key", sa.String(length=300), nullable=False),
        sa.Column("data_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=True),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["label_batches.id"],
            name=op.f("fk_training_snapshots_batch_id_label_batches"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_training_snapshots_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_training_snapshots_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rubric_version_id"],
            ["rubric_versions.id"],
            name=op.f("fk_training_snapshots_rubric_version_id_rubric_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_snapshots")),
        sa.UniqueConstraint("org_id", "version", name=op.f("uq_training_snapshots_org_id_version")),
    )
    with op.batch_alter_table("training_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_snapshots_org_id"), ["org_id"], unique=False)

    op.create_table(
        "model_promotions",
        sa.Column("training_run_id", sa.String(length=32), nullable=False),
        sa.Column("model_version", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("margin", sa.Double(), nullable=False),
        sa.Column("gate", sa.JSON(), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_model_promotions_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_model_promotions_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["training_run_id"],
            ["training_runs.id"],
            name=op.f("fk_model_promotions_training_run_id_training_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_promotions")),
    )
    with op.batch_alter_table("model_promotions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_promotions_org_id"), ["org_id"], unique=False)

    op.create_table(
        "label_assignments",
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("answer_id", sa.String(length=32), nullable=False),
        sa.Column("rater_id", sa.String(length=32), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("competency_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Float(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answers.id"],
            name=op.f("fk_label_assignments_answer_id_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["label_batches.id"],
            name=op.f("fk_label_assignments_batch_id_label_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_label_assignments_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rater_id"],
            ["users.id"],
            name=op.f("fk_label_assignments_rater_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_assignments")),
        sa.UniqueConstraint(
            "batch_id",
            "answer_id",
            "rater_id",
            "round",
            name=op.f("uq_label_assignments_batch_id_answer_id_rater_id_round"),
        ),
    )
    with op.batch_alter_table("label_assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_label_assignments_batch_answer", ["batch_id", "answer_id", "round"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_label_assignments_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_label_assignments_rater_state", ["rater_id", "state"], unique=False
        )

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scoring_model_version", sa.String(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("promotion_margin", sa.Double(), server_default="0.05", nullable=False)
        )

    with op.batch_alter_table("training_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("snapshot_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_training_runs_snapshot_id_training_snapshots"),
            "training_snapshots",
            ["snapshot_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:

    with op.batch_alter_table("training_runs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_training_runs_snapshot_id_training_snapshots"), type_="foreignkey"
        )
        batch_op.drop_column("snapshot_id")

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("promotion_margin")
        batch_op.drop_column("scoring_model_version")

    with op.batch_alter_table("label_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_label_assignments_rater_state")
        batch_op.drop_index(batch_op.f("ix_label_assignments_org_id"))
        batch_op.drop_index("ix_label_assignments_batch_answer")

    op.drop_table("label_assignments")
    with op.batch_alter_table("model_promotions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_promotions_org_id"))

    op.drop_table("model_promotions")
    with op.batch_alter_table("training_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_snapshots_org_id"))

    op.drop_table("training_snapshots")
    with op.batch_alter_table("label_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_label_batches_org_id"))

    op.drop_table("label_batches")
