"""Phones belong to users, not only to agents: a supervisor or a manager listens to,
whispers to and barges into calls from a phone of their own. ``voice_devices.agent_id``
becomes ``user_id`` (each existing device moves to its agent's user: an agent's name is
its username, so SIP usernames do not change).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _devices(owner: str, extra: str | None) -> sa.Table:
    """The table as it stands before a batch step (SQLite copies it without reading the
    database, so the migration also renders as SQL with ``--sql``): keyed by ``owner``,
    with the ``extra`` key column added for the move."""
    table = "agents" if owner == "agent_id" else "users"
    columns: list[sa.Column[object]] = [
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(owner, sa.Integer(), nullable=False),
    ]
    if extra is not None:
        columns.append(sa.Column(extra, sa.Integer(), nullable=True))
    return sa.Table(
        "voice_devices",
        sa.MetaData(),
        *columns,
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("sip_username", sa.String(length=80), nullable=False),
        sa.Column("ha1", sa.String(length=32), nullable=True),
        sa.Column("expires_at", sa.Double(), nullable=True),
        sa.Column("secret_set_at", sa.Double(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            [owner], [f"{table}.id"], name=f"fk_voice_devices_{owner}_{table}", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(owner, name=f"uq_voice_devices_{owner}"),
        sa.UniqueConstraint("sip_username", name="uq_voice_devices_sip_username"),
    )


def _move(old: str, new: str, fill: str) -> None:
    op.add_column("voice_devices", sa.Column(new, sa.Integer(), nullable=True))
    op.execute(fill)
    table = "users" if new == "user_id" else "agents"
    with op.batch_alter_table("voice_devices", copy_from=_devices(old, new)) as batch:
        batch.drop_constraint(f"fk_voice_devices_{old}_{'agents' if table == 'users' else 'users'}",
                              type_="foreignkey")  # fmt: skip
        batch.drop_constraint(f"uq_voice_devices_{old}", type_="unique")
        batch.drop_column(old)
        batch.alter_column(new, existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint(f"uq_voice_devices_{new}", [new])
        batch.create_foreign_key(
            f"fk_voice_devices_{new}_{table}", table, [new], ["id"], ondelete="CASCADE"
        )


def upgrade() -> None:
    _move(
        "agent_id",
        "user_id",
        "UPDATE voice_devices SET user_id = "
        "(SELECT agents.user_id FROM agents WHERE agents.id = voice_devices.agent_id)",
    )


def downgrade() -> None:
    # a phone of a user with no agent profile (a supervisor's) has nowhere to go back to
    op.execute("DELETE FROM voice_devices WHERE user_id NOT IN (SELECT agents.user_id FROM agents)")
    _move(
        "user_id",
        "agent_id",
        "UPDATE voice_devices SET agent_id = "
        "(SELECT agents.id FROM agents WHERE agents.user_id = voice_devices.user_id)",
    )
