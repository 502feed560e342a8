"""Distributions for handle time, after-call work, patience and ring delay.

Each is a small pydantic model (validated from the scenario YAML) that builds a sampler.
Samplers draw from numpy in batches and hand values out one at a time: one numpy call per
4,096 values instead of one per value keeps sampling off the simulator's profile.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

_BATCH = 4096


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def mean_value(self) -> float:
        raise NotImplementedError

    def sampler(self, rng: np.random.Generator) -> Callable[[], float]:
        return _BatchSampler(self, rng)


class Exponential(_Dist):
    """Exponential with the given mean (seconds)."""

    dist: Literal["exponential"]
    mean: float = Field(gt=0)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean, n)

    @property
    def mean_value(self) -> float:
        return self.mean


class LogNormal(_Dist):
    """Log-normal given the mean and standard deviation of the value itself (seconds)."""

    dist: Literal["lognormal"]
    mean: float = Field(gt=0)
    sd: float = Field(gt=0)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        # moments of the underlying normal from the mean and sd of the log-normal
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), n)

    @property
    def mean_value(self) -> float:
        return self.mean


class Fixed(_Dist):
    dist: Literal["fixed"]
    value: float = Field(ge=0)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value)

    @property
    def mean_value(self) -> float:
        return self.value

    def sampler(self, rng: np.random.Generator) -> Callable[[], float]:
        v = self.value
        return lambda: v


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)

    @property
    def mean_value(self) -> float:
        return (self.low + self.high) / 2


class Empirical(_Dist):
    """Resample observed values (e.g. handle times exported from a PBX) with replacement."""

    dist: Literal["empirical"]
    samples: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(np.asarray(self.samples, dtype=float), n)

    @property
    def mean_value(self) -> float:
        return float(np.mean(self.samples))


Distribution = Annotated[
    Exponential | LogNormal | Fixed | Uniform | Empirical, Field(discriminator="dist")
]


class _BatchSampler:
    __slots__ = ("_buf", "_dist", "_rng")

    def __init__(self, dist: _Dist, rng: np.random.Generator) -> None:
        self._dist = dist
        self._rng = rng
        self._buf: list[float] = []

    def __call__(self) -> float:
        try:
            return self._buf.pop()
        except IndexError:
            self._buf = self._dist.draw(self._rng, _BATCH).tolist()
            return self._buf.pop()
