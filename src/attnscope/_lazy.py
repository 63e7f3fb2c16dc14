"""Lazy package exports: heavy modules (torch, transformers) load on first use, never at import."""
from __future__ import annotations

import importlib
import sys
import types
from typing import Callable


def lazy_exports(package: str, exports: dict[str, tuple[str, str]]) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports ``exports[name] = (module, attribute)`` on first access."""

    def __getattr__(name: str):
        if name in exports:
            module, attr = exports[name]
            return getattr(importlib.import_module(module), attr)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


def make_callable(package: str, module: str, function: str) -> None:
    """Make the package ``package`` callable as its main function ``module.function``.

    ``attnscope.measure`` (likewise ``atlas``, ``trajectory``) is both a subpackage and
    the public function of the documented API ``from attnscope import measure``: once
    the subpackage is imported, the attribute ``attnscope.measure`` *is* the package,
    so the package forwards calls to the function (imported lazily).
    """

    class _CallablePackage(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return getattr(importlib.import_module(module), function)(*args, **kwargs)

    sys.modules[package].__class__ = _CallablePackage
