"""plan life cycle: a plan is closed (who, when, its final results frozen); carry-over links between plans

Revision ID: 0011_close
Revises: 0010_units
Create Date: 2026-11-29 21:39:16

``plan.closed_at`` / ``closed_by_id``: a closed plan is read-only (tracker.tasks.lifecycle);
``plan.final_results``: the final assessment as approved when it was closed (JSON).
``carry_over``: an unfinished measure or target of one plan carried into another.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_close"
down_revision = "0010_units"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carry_over",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_task_id", sa.Integer(), nullable=True),
        sa.Column("to_task_id", sa.Integer(), nullable=True),
        sa.Column("from_target_id", sa.Integer(), nullable=True),
        sa.Column("to_target_id", sa.Integer(), nullable=True),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by_user_id"], ["user.id"], name=op.f("fk_carry_over_by_user_id_user")),
        sa.ForeignKeyConstraint(["from_target_id"], ["target.id"], name=op.f("fk_carry_over_from_target_id_target")),
        sa.ForeignKeyConstraint(["from_task_id"], ["task.id"], name=op.f("fk_carry_over_from_task_id_task")),
        sa.ForeignKeyConstraint(["to_target_id"], ["target.id"], name=op.f("fk_carry_over_to_target_id_target")),
        sa.ForeignKeyConstraint(["to_task_id"], ["task.id"], name=op.f("fk_carry_over_to_task_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carry_over")),
    )
    with op.batch_alter_table("carry_over", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carry_over_from_target_id"), ["from_target_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_carry_over_from_task_id"), ["from_task_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_carry_over_to_target_id"), ["to_target_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_carry_over_to_task_id"), ["to_task_id"], unique=False)

    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("final_results", sa.JSON(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_plan_closed_by_id_user"), "user", ["closed_by_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_plan_closed_by_id_user"), type_="foreignkey")
        batch_op.drop_column("final_results")
        batch_op.drop_column("closed_by_id")
        batch_op.drop_column("closed_at")

    with op.batch_alter_table("carry_over", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carry_over_to_task_id"))
        batch_op.drop_index(batch_op.f("ix_carry_over_to_target_id"))
        batch_op.drop_index(batch_op.f("ix_carry_over_from_task_id"))
        batch_op.drop_index(batch_op.f("ix_carry_over_from_target_id"))

    op.drop_table("carry_over")
