"""login throttle: failures per (account, client) and per client, instead of per account

Revision ID: 0009_login_failures
Revises: 0008_bulletins
Create Date: 2026-11-29 18:40:00

The counts on ``user`` (failed_logins, locked_until) let anyone lock an account from anywhere and
told real accounts from unknown ones; they are dropped (a lock in force is forgotten: harmless).
"""

import sqlalchemy as sa
from alembic import op

revision = '0009_login_failures'
down_revision = '0008_bulletins'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_failure',
    sa.Column('account', sa.String(length=254), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account', 'client', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('failed_logins', server_default=None)
    op.drop_table('login_failure')
