"""figures entered on the figure form are reviewed and carry evidence, like reports

Revision ID: 0016_figure_review
Revises: 0015_coord
Create Date: 2026-11-29 23:00:00

A figure typed on the figure form by a unit's staff waits for a coordinator ("submitted"); the values
already stored were entered by coordinators, imports or the demo and count as they did ("approved").
An evidence file belongs to a report or, now, to such a figure.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_figure_review"
down_revision = "0015_coord"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("target_value", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), server_default="approved", nullable=False))
        batch_op.add_column(sa.Column("review_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_target_value_reviewed_by_id_user"), "user", ["reviewed_by_id"], ["id"])
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.alter_column("checkin_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("target_value_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_attachment_target_value_id"), ["target_value_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_attachment_target_value_id_target_value"), "target_value", ["target_value_id"], ["id"]
        )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM attachment WHERE checkin_id IS NULL"))
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_attachment_target_value_id_target_value"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_attachment_target_value_id"))
        batch_op.drop_column("target_value_id")
        batch_op.alter_column("checkin_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("target_value", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_target_value_reviewed_by_id_user"), type_="foreignkey")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by_id")
        batch_op.drop_column("review_comment")
        batch_op.drop_column("state")
