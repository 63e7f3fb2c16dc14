"""Shared first steps of the TAF recipes: the primary layer type's γ_Padé, with its audit step."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attnscope.recipes._layers import LayerGroup, layer_groups, primary_group
from attnscope.recipes.base import RecipeResult, Step, model_name, step
from attnscope.theory.pade import gamma_pade


@dataclass
class PadeView:
    """γ_Padé of the primary layer type (None with a reason when it does not apply)."""

    group: LayerGroup
    gamma: float | None
    reason: str | None
    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def pade_view(arch: Any, context: int | None) -> PadeView:
    """Primary layer type, its (θ, T) and γ_Padé, as an audit step."""
    groups = layer_groups(arch, context)
    g = primary_group(groups)
    warnings = list(g.warnings)
    if len(groups) > 1:
        warnings.append(f"{len(groups)} layer types; this recipe uses the {g.layer_type} layers "
                        f"({g.n_layers} of {arch.n_layers}); `attnscope card` lists every type")
    if g.null_reason:
        return PadeView(g, None, g.null_reason, [], warnings)
    gp = gamma_pade(g.theta, g.T_used)
    s = step("γ_Padé", "γ = (2θ − √2·T)/(2θ + √2·T)",
             {"theta": g.theta, "theta_source": g.theta_source, "T": g.T_used, "T_source": g.T_source,
              "layer_type": g.layer_type}, gp)
    return PadeView(g, gp, None, [s], warnings)


def not_applicable(recipe: Any, arch: Any, params: dict[str, Any], reason: str, value_name: str,
                   steps: list[Step] | None = None, warnings: list[str] | None = None) -> RecipeResult:
    """A result saying the recipe does not apply to this model, and why."""
    return RecipeResult(recipe=recipe.id, title=recipe.title, model=model_name(arch), verdict="N/A", value=None,
                        value_name=value_name, reason=reason, params=params, steps=steps or [],
                        warnings=warnings or [])
