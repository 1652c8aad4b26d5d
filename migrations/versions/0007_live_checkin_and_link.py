"""One live report per task, department and period (partial unique index); a report's reminder link.

Revision ID: 0007_live_checkin
Revises: 0006_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_live_checkin"
down_revision = "0006_accounts"
branch_labels = None
depends_on = None

# A report moved in from a merged department (original_department_id set) is history: it stays beside
# the surviving department's own report for the period (tracker/directory), outside the rule.
LIVE = sa.text("state != 'returned' AND original_department_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.add_column(sa.Column("via_link", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("via_link_message_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_check_in_via_link_message_id_outbox_message"),
            "outbox_message",
            ["via_link_message_id"],
            ["id"],
        )
    # Outside the batch: SQLite's batch mode would rebuild the table and drop the WHERE clause.
    op.create_index(
        "uq_check_in_live",
        "check_in",
        ["task_id", "department_id", "period"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_check_in_live", table_name="check_in")
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_check_in_via_link_message_id_outbox_message"), type_="foreignkey")
        batch_op.drop_column("via_link_message_id")
        batch_op.drop_column("via_link")
