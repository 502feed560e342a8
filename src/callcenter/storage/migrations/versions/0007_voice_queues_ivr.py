"""Calls in queues and the IVR: a voice queue's announcements, callback offer and
recording switch (``queues``); what a caller gave the IVR, for the agent's card
(``contacts.ivr_data``); IVR flows as their YAML text (``ivr_flows``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN (with a server default where NOT NULL): every dialect takes it,
    # also when the migration is rendered as SQL (--sql) without a database to read
    op.add_column(
        "queues", sa.Column("announce_every_s", sa.Double(), nullable=False, server_default="30")
    )
    op.add_column("queues", sa.Column("callback_digit", sa.String(length=1), nullable=True))
    op.add_column("queues", sa.Column("callback_prompt", sa.String(length=128), nullable=True))
    op.add_column(
        "queues",
        sa.Column("record_calls", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column("contacts", sa.Column("ivr_data", sa.JSON(), nullable=True))
    op.create_table(
        "ivr_flows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_flows")),
        sa.UniqueConstraint("name", name=op.f("uq_ivr_flows_name")),
    )


def downgrade() -> None:
    op.drop_table("ivr_flows")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("ivr_data")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("record_calls")
        batch_op.drop_column("callback_prompt")
        batch_op.drop_column("callback_digit")
        batch_op.drop_column("announce_every_s")
