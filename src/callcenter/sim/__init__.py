"""The simulator: the routing engine on a virtual clock, fed by a scenario."""

from callcenter.sim.engine import SimSummary, simulate
from callcenter.sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["Scenario", "ScenarioError", "SimSummary", "load_scenario", "simulate"]
