"""open parties kept as written, alternative criteria, provenance of links

Revision ID: 0012_parties
Revises: 0011_close
Create Date: 2026-11-29 21:55:00

- ``assignment``: ``origin`` (plan | app), ``open_party`` (the open party a coordinator named the
  department for), ``added_by_id`` / ``added_at`` (who decided it in the app, when). Existing rows
  came from plan files: ``plan``.
- ``dependency`` / ``contribution``: ``origin`` (stated | inferred | added), ``added_by_id`` /
  ``added_at``. Existing links are ``inferred`` (the seed's links are not printed in the plan); the
  next ``plan load`` sets what its file says.
- ``target.alternatives``: alternative criteria, the target being met when any holds.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_parties"
down_revision = "0011_close"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=8), server_default="plan", nullable=False))
        batch_op.add_column(sa.Column("open_party", sa.String(length=64), server_default="", nullable=False))
        batch_op.add_column(sa.Column("added_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("added_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_assignment_added_by_id_user"), "user", ["added_by_id"], ["id"])
    for table in ("dependency", "contribution"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("origin", sa.String(length=8), server_default="inferred", nullable=False))
            batch_op.add_column(sa.Column("added_by_id", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("added_at", sa.DateTime(timezone=True), nullable=True))
            batch_op.create_foreign_key(batch_op.f(f"fk_{table}_added_by_id_user"), "user", ["added_by_id"], ["id"])
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alternatives", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.alter_column("alternatives", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("target", schema=None) as batch_op:
        batch_op.drop_column("alternatives")
    for table in ("contribution", "dependency"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_added_by_id_user"), type_="foreignkey")
            batch_op.drop_column("added_at")
            batch_op.drop_column("added_by_id")
            batch_op.drop_column("origin")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_assignment_added_by_id_user"), type_="foreignkey")
        batch_op.drop_column("added_at")
        batch_op.drop_column("added_by_id")
        batch_op.drop_column("open_party")
        batch_op.drop_column("origin")
