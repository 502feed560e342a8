"""The router's configuration, read from the configuration tables.

Queues become :class:`~callcenter.routing.QueueConfig` and agent profiles
:class:`~callcenter.routing.AgentConfig`; inactive queues are left out.  The tables are
validated when written (the administration API), so a row that cannot be turned into a
router setting here is a bug, not user input.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.routing import AgentConfig, QueueConfig, SkillRequirement, Strategy
from callcenter.storage.tables import AgentRow, QueueRow, User


def queue_config(row: QueueRow) -> QueueConfig:
    return QueueConfig(
        name=row.name,
        priority=row.priority,
        strategy=Strategy(row.strategy),
        requirements=tuple(
            SkillRequirement(str(r["skill"]), int(r.get("min_level", 1))) for r in row.requirements
        ),
        sl_target=row.sl_target,
        sl_threshold_s=row.sl_threshold_s,
        max_wait_s=row.max_wait_s,
        overflow_queue=row.overflow_queue,
        ring_timeout_s=row.ring_timeout_s,
        wrapup_s=row.wrapup_s,
    )


def agent_config(row: AgentRow) -> AgentConfig:
    return AgentConfig(
        name=row.name,
        skills={str(k): int(v) for k, v in row.skills.items()},
        capacity=row.capacity,
        queues=tuple(row.queues) if row.queues is not None else None,
        max_no_answer=row.max_no_answer,
    )


def load_router_config(s: Session) -> tuple[list[QueueConfig], list[AgentConfig]]:
    """Active queues and the agent profiles of active users, in a stable order."""
    queues = [
        queue_config(q)
        for q in s.scalars(select(QueueRow).where(QueueRow.active).order_by(QueueRow.id))
    ]
    names = {q.name for q in queues}
    agents = []
    for a in s.scalars(
        select(AgentRow)
        .join(User, User.id == AgentRow.user_id)
        .where(User.active)
        .order_by(AgentRow.id)
    ):
        cfg = agent_config(a)
        if cfg.queues is not None:  # membership of a removed queue is dropped
            cfg = AgentConfig(
                cfg.name,
                cfg.skills,
                cfg.capacity,
                tuple(q for q in cfg.queues if q in names),
                cfg.max_no_answer,
            )
        agents.append(cfg)
    return queues, agents


__all__ = ["agent_config", "load_router_config", "queue_config"]
