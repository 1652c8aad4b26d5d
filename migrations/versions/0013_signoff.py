"""department head sign-off (单位负责人审核), leaders' portfolios (分管) and instructions (批示)

Revision ID: 0013_signoff
Revises: 0012_parties
Create Date: 2026-11-29 21:38:53.208216
"""

import sqlalchemy as sa
from alembic import op

revision = '0013_signoff'
down_revision = "0012_parties"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('instruction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('answer_by', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_instruction_author_id_user')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_instruction_department_id_department')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_instruction_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instruction'))
    )
    with op.batch_alter_table('instruction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instruction_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_instruction_task_id'), ['task_id'], unique=False)

    op.create_table('leader_portfolio',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_leader_portfolio_department_id_department'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_leader_portfolio_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'department_id', name=op.f('pk_leader_portfolio'))
    )
    op.create_table('instruction_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instruction_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_instruction_answer_author_id_user')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_instruction_answer_department_id_department')),
    sa.ForeignKeyConstraint(['instruction_id'], ['instruction.id'], name=op.f('fk_instruction_answer_instruction_id_instruction'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instruction_answer'))
    )
    with op.batch_alter_table('instruction_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instruction_answer_instruction_id'), ['instruction_id'], unique=False)

    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_head_signoff', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sa.String(length=16), server_default='review', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_column('stage')

    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_column('requires_head_signoff')

    with op.batch_alter_table('instruction_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instruction_answer_instruction_id'))

    op.drop_table('instruction_answer')
    op.drop_table('leader_portfolio')
    with op.batch_alter_table('instruction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instruction_task_id'))
        batch_op.drop_index(batch_op.f('ix_instruction_department_id'))

    op.drop_table('instruction')
