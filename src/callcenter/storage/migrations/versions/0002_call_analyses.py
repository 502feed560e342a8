"""call_analyses (one row per analysed recording) and call_keywords (one row per hit).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DOUBLES = (
    "duration_s",
    "agent_talk_s",
    "caller_talk_s",
    "talk_ratio",
    "dead_air_s",
    "longest_gap_s",
    "overtalk_s",
    "hold_s",
    "agent_words_per_min",
    "caller_words_per_min",
    "topic_score",
    "resolution_confidence",
    "agent_sentiment",
    "caller_sentiment",
    "caller_sentiment_trend",
)
_INTS = (
    "long_gaps",
    "agent_interruptions",
    "caller_interruptions",
    "etiquette_passed",
    "etiquette_checked",
)
_INDEXED = ("start_ts", "agent", "queue", "topic")


def upgrade() -> None:
    op.create_table(
        "call_analyses",
        sa.Column("call_id", sa.String(length=255), nullable=False),
        sa.Column("start_ts", sa.Double(), nullable=True),
        sa.Column("agent", sa.String(length=128), nullable=True),
        sa.Column("queue", sa.String(length=128), nullable=True),
        sa.Column("caller", sa.String(length=255), nullable=True),
        sa.Column("layout", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        *(sa.Column(n, sa.Double(), nullable=True) for n in _DOUBLES),
        *(sa.Column(n, sa.Integer(), nullable=True) for n in _INTS),
        sa.Column("topic", sa.String(length=128), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("analyzed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_call_analyses")),
    )
    for column in _INDEXED:
        op.create_index(op.f(f"ix_call_analyses_{column}"), "call_analyses", [column], unique=False)
    op.create_table(
        "call_keywords",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=255), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("phrase", sa.String(length=255), nullable=False),
        sa.Column("speaker", sa.String(length=16), nullable=False),
        sa.Column("t", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["call_analyses.call_id"],
            name=op.f("fk_call_keywords_call_id_call_analyses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_keywords")),
    )
    op.create_index(op.f("ix_call_keywords_call_id"), "call_keywords", ["call_id"])
    op.create_index(op.f("ix_call_keywords_category"), "call_keywords", ["category"])


def downgrade() -> None:
    op.drop_index(op.f("ix_call_keywords_category"), table_name="call_keywords")
    op.drop_index(op.f("ix_call_keywords_call_id"), table_name="call_keywords")
    op.drop_table("call_keywords")
    for column in reversed(_INDEXED):
        op.drop_index(op.f(f"ix_call_analyses_{column}"), table_name="call_analyses")
    op.drop_table("call_analyses")
