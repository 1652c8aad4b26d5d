"""evidence files in the database: the bytes of each upload when EVIDENCE_STORE=database

Revision ID: 0014_cache
Revises: 0013_signoff
Create Date: 2026-11-29 22:00:00

Every web machine reaches the database, so evidence stored there is downloadable through any of
them (tracker/reports/attachments.py; docs/deploy.md says when to choose it).
"""

import sqlalchemy as sa
from alembic import op

revision = '0014_cache'
down_revision = "0013_signoff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evidence_blob',
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('stored_name', name=op.f('pk_evidence_blob'))
    )


def downgrade() -> None:
    op.drop_table('evidence_blob')
