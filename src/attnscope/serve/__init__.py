"""``attnscope serve``: a local web app (Profile, Compare, Recipes, Dataset, Results, Ask) and a JSON API.

:func:`create_app` (``attnscope.serve.app``) builds the FastAPI app for one working folder;
:func:`parse_question` (``attnscope.serve.ask``) is the deterministic plain-English parser.
Needs the ``serve`` extra (``pip install 'attnscope[serve]'``); importing this package does not.
"""
from __future__ import annotations

_LAZY = {"create_app": "attnscope.serve.app", "parse_question": "attnscope.serve.ask"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'attnscope.serve' has no attribute {name!r}")


__all__ = list(_LAZY)
