"""plan: the due rule's settings per plan (report requested N working days before a period ends, due N days after)

Revision ID: 0004_plan_due_rule
Revises: 0003_reminders
Create Date: 2026-11-29 18:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_plan_due_rule"
down_revision = "0003_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_request_workdays", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("report_due_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("report_due_days")
        batch_op.drop_column("report_request_workdays")
