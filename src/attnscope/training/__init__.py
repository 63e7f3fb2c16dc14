"""Training the tiny models attnscope ships (``attnscope train-tiny``).

Public API: :class:`TrainConfig`, :func:`train_tiny`, :func:`evaluate_checkpoint`,
:func:`bundled_model_dir`, :func:`list_bundled_models`. Importing this package is
cheap; torch and transformers load when a function runs.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["TrainConfig", "TrainResult", "train_tiny", "evaluate_checkpoint",
           "bundled_model_dir", "list_bundled_models"]

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


def list_bundled_models() -> list[str]:
    """Names of the trained models shipped in ``attnscope/models/`` (folders with a card.json)."""
    if not MODELS_DIR.is_dir():
        return []
    return sorted(p.name for p in MODELS_DIR.iterdir() if (p / "card.json").is_file())


def bundled_model_dir(name: str) -> Path:
    """Folder of a shipped model; :class:`ModelSourceError` if there is none by that name."""
    from attnscope.errors import ModelSourceError

    path = MODELS_DIR / name
    if not (path / "card.json").is_file():
        raise ModelSourceError(f"no bundled model by that name (have: {', '.join(list_bundled_models()) or 'none'})",
                               field="name", value=name)
    return path


def __getattr__(name: str):
    if name in ("TrainConfig", "TrainResult", "train_tiny"):
        from attnscope.training import train

        return getattr(train, name)
    if name == "evaluate_checkpoint":
        from attnscope.training.evaluate import evaluate_checkpoint

        return evaluate_checkpoint
    raise AttributeError(name)
