"""Configuration records of the routing engine: queues, agents, strategies, skill steps."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum


class Strategy(StrEnum):
    """How a queue picks among the idle agents able to take a contact."""

    LONGEST_IDLE = "longest_idle"  # the agent idle the longest (default; Asterisk "leastrecent")
    ROUND_ROBIN = "round_robin"  # the agent offered a contact of this queue least recently
    FEWEST_CONTACTS = "fewest_contacts"  # fewest contacts handled since login ("fewestcalls")
    LEAST_OCCUPIED = "least_occupied"  # least busy time since login
    BEST_PROFICIENCY = "best_proficiency"  # highest summed proficiency in the required skills


class RoutingError(ValueError):
    """A routing request that cannot be carried out (unknown id, wrong state, ...)."""


@dataclass(frozen=True, slots=True)
class SkillRequirement:
    """The agent needs ``skill`` at proficiency ``min_level`` or better."""

    skill: str
    min_level: int = 1


@dataclass(frozen=True, slots=True)
class RoutingStep:
    """From ``after_s`` seconds of waiting on, these requirements apply (skill widening).

    Like Amazon Connect routing steps and Wazo skill rules: a queue starts with its strict
    requirements and relaxes them as the contact waits, so that a wider pool of agents
    becomes eligible.  Steps must get *wider* over time (any agent eligible at step k is
    eligible at step k+1); the engine checks this.
    """

    after_s: float
    requirements: tuple[SkillRequirement, ...] = ()


@dataclass(frozen=True, slots=True)
class QueueConfig:
    name: str
    priority: int = 0  # across queues, higher is served first (Asterisk "weight")
    strategy: Strategy = Strategy.LONGEST_IDLE
    requirements: tuple[SkillRequirement, ...] = ()
    steps: tuple[RoutingStep, ...] = ()  # later, wider requirement sets
    sl_target: float = 0.8
    sl_threshold_s: float = 20.0
    max_wait_s: float | None = None  # leave the queue (timeout) after this long
    overflow_queue: str | None = None  # where a timed-out contact goes (None: exits)
    ring_timeout_s: float = 15.0  # an offer not answered within this is a ring-no-answer
    wrapup_s: float | None = None  # automatic after-call work; None: the agent ends it

    def all_steps(self) -> tuple[RoutingStep, ...]:
        """Step 0 (the queue's own requirements, from 0 s) followed by the widening steps."""
        return (RoutingStep(0.0, self.requirements), *self.steps)


@dataclass(frozen=True, slots=True)
class AgentConfig:
    name: str
    skills: dict[str, int] = field(default_factory=dict)  # skill -> proficiency (1..10)
    capacity: int = 1  # simultaneous contacts: 1 for voice, more for chat
    queues: tuple[str, ...] | None = None  # explicit membership; None: every queue it fits
    max_no_answer: int = 3  # this many missed offers in a row pause the agent; 0 = never


def step_of(steps: tuple[RoutingStep, ...], waited: float) -> int:
    """Index of the step in force after ``waited`` seconds (steps sorted by after_s)."""
    k = 0
    for i in range(1, len(steps)):
        if waited >= steps[i].after_s:
            k = i
        else:
            break
    return k


def qualifies(agent: AgentConfig, requirements: tuple[SkillRequirement, ...]) -> bool:
    skills = agent.skills
    return all(skills.get(r.skill, 0) >= r.min_level for r in requirements)


def first_eligible_step(agent: AgentConfig, queue: QueueConfig) -> float:
    """The lowest step index at which ``agent`` may take ``queue``'s contacts (inf: never)."""
    if agent.queues is not None and queue.name not in agent.queues:
        return math.inf
    for i, step in enumerate(queue.all_steps()):
        if qualifies(agent, step.requirements):
            return i
    return math.inf


def proficiency_score(agent: AgentConfig, queue: QueueConfig) -> int:
    """Summed proficiency of ``agent`` in the skills ``queue`` asks for (step 0)."""
    return sum(agent.skills.get(r.skill, 0) for r in queue.requirements)
