"""Chat identity claims: the name, e-mail and phone a chat's customer typed are kept on the
contact (a claim, linked to a customer only deliberately), and the one-time codes that
prove a claimed e-mail (``claim_codes``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("claimed_email", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("claimed_phone", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("email_verified_at", sa.Double(), nullable=True))
    op.create_table(
        "claim_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_claim_codes_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_codes")),
    )
    with op.batch_alter_table("claim_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_codes_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index("ix_claim_codes_email_sent_at", ["email", "sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("claim_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_codes_email_sent_at")
        batch_op.drop_index(batch_op.f("ix_claim_codes_contact_id"))
    op.drop_table("claim_codes")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("email_verified_at")
        batch_op.drop_column("claimed_phone")
        batch_op.drop_column("claimed_email")
        batch_op.drop_column("claimed_name")
