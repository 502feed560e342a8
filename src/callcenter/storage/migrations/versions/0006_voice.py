"""Telephony configuration: SIP trunks (``voice_trunks``), telephone numbers and where
their calls go (``voice_numbers``), agents' devices with their SIP digest
(``voice_devices``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_trunks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("networks", sa.JSON(), nullable=False),
        sa.Column("server", sa.String(length=255), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("password", sa.String(length=128), nullable=True),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("codecs", sa.JSON(), nullable=False),
        sa.Column("dtmf_mode", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_trunks")),
        sa.UniqueConstraint("name", name=op.f("uq_voice_trunks_name")),
    )
    op.create_table(
        "voice_numbers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("trunk_id", sa.Integer(), nullable=True),
        sa.Column("target_kind", sa.String(length=8), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trunk_id"],
            ["voice_trunks.id"],
            name=op.f("fk_voice_numbers_trunk_id_voice_trunks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_numbers")),
        sa.UniqueConstraint("number", name=op.f("uq_voice_numbers_number")),
    )
    with op.batch_alter_table("voice_numbers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voice_numbers_trunk_id"), ["trunk_id"], unique=False)
    op.create_table(
        "voice_devices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("sip_username", sa.String(length=80), nullable=False),
        sa.Column("ha1", sa.String(length=32), nullable=True),
        sa.Column("expires_at", sa.Double(), nullable=True),
        sa.Column("secret_set_at", sa.Double(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_voice_devices_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_devices")),
        sa.UniqueConstraint("agent_id", name=op.f("uq_voice_devices_agent_id")),
        sa.UniqueConstraint("sip_username", name=op.f("uq_voice_devices_sip_username")),
    )


def downgrade() -> None:
    op.drop_table("voice_devices")
    with op.batch_alter_table("voice_numbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_numbers_trunk_id"))
    op.drop_table("voice_numbers")
    op.drop_table("voice_trunks")
