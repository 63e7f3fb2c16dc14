"""Recipes: practical questions answered from a config, each with an audit trail.

``RECIPES`` maps an id ("X-2") to a :class:`Recipe`; ``get_recipe("x2")`` accepts
"X-2", "x2", "X2" and "x-02". Each recipe returns a :class:`RecipeResult` whose
``steps`` are ``Step(name, formula, inputs, value)``. No torch import.
"""
from __future__ import annotations

import re

from attnscope.errors import ConfigError
from attnscope.recipes.base import Param, Recipe, RecipeResult, Step
from attnscope.recipes.x01_train_vs_api import RECIPE as X01
from attnscope.recipes.x02_long_context import RECIPE as X02
from attnscope.recipes.x03_budget import RECIPE as X03
from attnscope.recipes.x05_cheapest_gpu import RECIPE as X05
from attnscope.recipes.x19_kv_compression import RECIPE as X19
from attnscope.recipes.x21_imprint import RECIPE as X21
from attnscope.recipes.x22_compute_context import RECIPE as X22
from attnscope.recipes.x23_induction import RECIPE as X23

RECIPES: dict[str, Recipe] = {r.id: r for r in (X01, X02, X03, X05, X19, X21, X22, X23)}

#: recipes summarised on every card (config-only, no price table).
CARD_RECIPES = ("X-2", "X-19", "X-21", "X-22", "X-23")


def get_recipe(name: str) -> Recipe:
    """Look a recipe up by id, tolerant of case, dash and leading zeros; ConfigError otherwise."""
    m = re.fullmatch(r"\s*[xX]-?0*(\d+)\s*", str(name))
    key = f"X-{m.group(1)}" if m else None
    if key not in RECIPES:
        raise ConfigError(f"unknown recipe; known: {', '.join(RECIPES)}", field="recipe", value=name)
    return RECIPES[key]


__all__ = ["RECIPES", "CARD_RECIPES", "get_recipe", "Recipe", "RecipeResult", "Step", "Param"]
