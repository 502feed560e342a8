"""The routing engine (ACD): queues, skills, strategies; pure and clock-injected."""

from callcenter.routing.engine import Router
from callcenter.routing.model import (
    AgentConfig,
    QueueConfig,
    RoutingError,
    RoutingStep,
    SkillRequirement,
    Strategy,
)

__all__ = [
    "AgentConfig",
    "QueueConfig",
    "Router",
    "RoutingError",
    "RoutingStep",
    "SkillRequirement",
    "Strategy",
]
