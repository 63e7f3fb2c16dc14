"""Recipe machinery: the audit-trail step, the result, the parameter spec and the registry.

A recipe answers one practical question ("will it serve 32K with retrieval?")
from a config (and, for the cost recipes, a dated price table). Each step of its
reasoning is recorded as ``Step(name, formula, inputs, value)``, so a reader can
redo the arithmetic by hand. Adding a recipe: one file ``xNN_<name>.py`` holding
one :class:`Recipe` instance, one line in ``recipes/__init__.py``, one test.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict

from attnscope.errors import ConfigError, DomainError


class Step(BaseModel):
    """One audited step: what was computed, by which formula, from which inputs."""

    model_config = ConfigDict(frozen=True)
    name: str
    formula: str
    inputs: dict[str, Any]
    value: Any
    note: str | None = None


class RecipeResult(BaseModel):
    """A recipe's answer: a verdict, its headline number, the steps, and what was guessed."""

    model_config = ConfigDict(frozen=True)
    recipe: str
    title: str
    model: str | None
    verdict: str
    value: float | int | None
    value_name: str
    reason: str
    mitigation: str | None = None
    params: dict[str, Any] = {}
    steps: list[Step]
    warnings: list[str] = []
    constants: list[dict[str, Any]] = []

    def summary(self) -> dict[str, Any]:
        """The short form embedded in a card: verdict, headline number, reason."""
        return {"verdict": self.verdict, self.value_name: self.value, "reason": self.reason}


@dataclass(frozen=True)
class Param:
    """A recipe option: type, default (None = not given), unit/meaning, allowed range."""

    type: type
    default: Any
    help: str
    minimum: float | None = None
    exclusive_minimum: bool = False
    maximum: float | None = None

    def parse(self, name: str, raw: Any) -> Any:
        """Convert a CLI string (or a Python value) and validate its range."""
        if raw is None:
            return None
        try:
            if self.type is bool and isinstance(raw, str):
                low = raw.strip().lower()
                if low not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(raw)
                value: Any = low in ("true", "1", "yes")
            elif self.type is int and isinstance(raw, str):
                value = int(float(raw)) if float(raw) == int(float(raw)) else int(raw)
            else:
                value = self.type(raw)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"expected {self.type.__name__}", field=name, value=raw) from None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value != value or value in (float("inf"), float("-inf")):
                raise DomainError("must be finite", field=name, value=raw)
            if self.minimum is not None and (value < self.minimum or (self.exclusive_minimum and value == self.minimum)):
                op = ">" if self.exclusive_minimum else ">="
                raise DomainError(f"must be {op} {self.minimum:g}", field=name, value=value)
            if self.maximum is not None and value > self.maximum:
                raise DomainError(f"must be <= {self.maximum:g}", field=name, value=value)
        return value


@dataclass(frozen=True)
class Recipe:
    """A registered recipe: id, title, question, options, and its run function.

    ``run(arch, params, prices)`` receives the ArchSpec (or None for a recipe that
    needs no model), the parsed options (every declared option present, None when
    not given and without default) and the price table (or None).
    """

    id: str
    title: str
    question: str
    needs_model: bool
    uses_prices: bool
    params: dict[str, Param]
    run_fn: Callable[..., RecipeResult]
    fixes: str = ""
    example: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def parse_params(self, given: dict[str, Any]) -> dict[str, Any]:
        """Validate option names and values; unknown names are an error (exit 2 in the CLI)."""
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            raise ConfigError(f"unknown option for {self.id}; options are: {', '.join(self.params) or 'none'}",
                              field="param", value=unknown[0])
        out = {}
        for name, spec in self.params.items():
            out[name] = spec.parse(name, given[name]) if given.get(name) is not None else spec.default
        return out

    def __call__(self, arch: Any = None, *, prices: Any = None, **params: Any) -> RecipeResult:
        """Run the recipe on an ArchSpec (or a model source string) with options as keywords."""
        if isinstance(arch, str):
            from attnscope.arch import load_arch

            arch = load_arch(arch)
        if self.needs_model and arch is None:
            raise ConfigError(f"recipe {self.id} needs a model", field="model", value=None)
        if self.uses_prices and (prices is None or isinstance(prices, str)):
            from attnscope.recipes.prices import load_prices

            prices = load_prices(prices)
        return self.run_fn(arch, self.parse_params(params), prices)


def step(name: str, formula: str, inputs: dict[str, Any], value: Any, note: str | None = None) -> Step:
    """Shorthand for :class:`Step`."""
    return Step(name=name, formula=formula, inputs=inputs, value=value, note=note)


def model_name(arch: Any) -> str | None:
    return None if arch is None else str(getattr(arch, "name", "") or getattr(arch, "source", ""))
