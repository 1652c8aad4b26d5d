"""separation of duties: plan.separate_review (a coordinator does not review their own department's reports)

Revision ID: 0015_coord
Revises: 0014_cache
Create Date: 2026-11-29 21:50:00

On by default, existing plans included.
"""

import sqlalchemy as sa
from alembic import op

revision = '0015_coord'
down_revision = "0014_cache"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('separate_review', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_column('separate_review')
