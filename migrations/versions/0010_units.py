"""figures belong to their unit: every target value measures the city, one county or one department

Revision ID: 0010_units
Revises: 0009_login_failures
Create Date: 2026-11-29 22:00:00

Backfill (tracker.tasks.figures.value_unit, applied to the rows already stored):
- a value on a county's own target (附件 1 / 附件 3) measures that county;
- a value reported by a county government measures its county;
- a value on a report of a department that answers for the task (牵头, or 负责 where no one leads)
  measures the city; one on a report of any other department (配合, 负责 beside a lead) measures
  that department's own share;
- a value without a report (coordinator's import, the demo generator) measures the city for a city
  target (the import's county rows are on county targets: the first rule).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_units"
down_revision = "0009_login_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("target_value", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_kind", sa.String(length=16), server_default="city", nullable=False))
        batch_op.add_column(sa.Column("county_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_target_value_county_id"), ["county_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_target_value_county_id_county"), "county", ["county_id"], ["id"])
    op.execute(
        sa.text(
            "UPDATE target_value SET unit_kind = 'county', "
            "county_id = (SELECT t.county_id FROM target t WHERE t.id = target_value.target_id) "
            "WHERE target_id IN (SELECT id FROM target WHERE county_id IS NOT NULL)"
        )
    )
    op.execute(
        sa.text(
            "UPDATE target_value SET unit_kind = 'county', "
            "county_id = (SELECT d.county_id FROM department d WHERE d.id = target_value.department_id) "
            "WHERE unit_kind = 'city' AND checkin_id IS NOT NULL AND department_id IN "
            "(SELECT id FROM department WHERE kind = 'county' AND county_id IS NOT NULL)"
        )
    )
    op.execute(
        sa.text(
            "UPDATE target_value SET unit_kind = 'department' "
            "WHERE unit_kind = 'city' AND checkin_id IS NOT NULL AND NOT EXISTS ("
            " SELECT 1 FROM check_in c JOIN assignment a ON a.task_id = c.task_id"
            " WHERE c.id = target_value.checkin_id AND a.department_id = target_value.department_id"
            " AND (a.role = 'lead' OR (a.role = 'responsible' AND NOT EXISTS ("
            "  SELECT 1 FROM assignment b WHERE b.task_id = a.task_id AND b.role = 'lead'))))"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("target_value", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_target_value_county_id_county"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_target_value_county_id"))
        batch_op.drop_column("county_id")
        batch_op.drop_column("unit_kind")
