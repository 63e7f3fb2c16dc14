"""One module for every kind of user error.

Each error carries the offending ``field`` and ``value``; the CLI turns any
:class:`AttnscopeError` into one line on stderr and exit code 2 (set
``ATTNSCOPE_DEBUG=1`` for the traceback). Subclasses mix in builtins so that
library callers can catch ``ValueError`` / ``FileNotFoundError`` as usual.
"""
from __future__ import annotations

from typing import Any


class AttnscopeError(Exception):
    """Base class: a user error with the field and value that caused it."""

    def __init__(self, message: str, *, field: str | None = None, value: Any = None):
        self.field = field
        self.value = value
        self.message = message
        super().__init__(self.one_line())

    def one_line(self) -> str:
        msg = " ".join(str(self.message).split())
        if self.field is None:
            return msg
        return f"{self.field}={self.value!r}: {msg}"


class ConfigError(AttnscopeError, ValueError):
    """A model config (config.json, preset, hub id) is missing, malformed or inconsistent."""


class ModelSourceError(AttnscopeError, FileNotFoundError):
    """A model source cannot be resolved (no such preset, folder, file; offline hub id; no weights)."""


class DomainError(AttnscopeError, ValueError):
    """A number is outside a formula's domain (theta <= 0, T <= 0, gamma out of range, ...)."""


class ProtocolError(AttnscopeError, ValueError):
    """A measurement protocol setting is invalid (distance >= T, unknown corpus, empty text, ...)."""


class RecordError(AttnscopeError, ValueError):
    """A results file or record is malformed."""


class UnsupportedModelError(AttnscopeError, ValueError):
    """The model cannot be measured this way (e.g. a family without attention, such as Mamba)."""


class MissingExtraError(AttnscopeError, ImportError):
    """An optional dependency is missing; the message names the pip extra to install."""


def require_extra(module: str, extra: str):
    """Import an optional dependency or raise :class:`MissingExtraError` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(
            f"needs the optional dependency {module!r}: pip install 'attnscope[{extra}]'",
            field="extra", value=extra,
        ) from exc


class ForwardError(AttnscopeError, RuntimeError):
    """A model's forward pass failed or produced non-finite attention during a measurement.

    The message names the model, the prompt and the reason; the original
    exception is chained (``ATTNSCOPE_DEBUG=1`` shows it).
    """
