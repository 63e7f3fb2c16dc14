"""Model sources → raw config dicts: bundled trained model, preset, folder, file, hub."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from attnscope.errors import ConfigError, ModelSourceError

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PRESETS_DIR = PACKAGE_DIR / "presets"
WEIGHT_GLOBS = ("*.safetensors", "pytorch_model*.bin")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")


@dataclass(frozen=True)
class ResolvedSource:
    """Where a model's config came from.

    Attributes
    ----------
    name : str
        Display name (preset or bundled-model name, folder name, file path, hub id).
    kind : str
        ``"bundled-model" | "preset" | "folder" | "file" | "hub"``.
    config : dict
        The raw config.json content.
    path : Path or None
        Folder holding weights (``*.safetensors`` / ``pytorch_model*.bin``), if any.
    config_sha256 : str
        sha256 of the canonical JSON of ``config``.
    hf_id : str or None
        The Hugging Face id when known (presets, hub).
    """

    name: str
    kind: str
    config: dict[str, Any] = field(repr=False)
    path: Path | None
    config_sha256: str
    hf_id: str | None = None


def models_dir() -> Path:
    """Folder of bundled trained models (``ATTNSCOPE_MODELS_DIR`` overrides, e.g. in tests)."""
    env = os.environ.get("ATTNSCOPE_MODELS_DIR")
    return Path(env) if env else PACKAGE_DIR / "models"


def read_json(path: Path, *, field_name: str = "config") -> dict[str, Any]:
    """Read a JSON object from ``path`` (ConfigError naming the file if it is not one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelSourceError(f"cannot read ({exc.strerror})", field=field_name, value=str(path)) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
                          field=field_name, value=str(path)) from None
    if not isinstance(obj, dict):
        raise ConfigError("a model config must be a JSON object", field=field_name, value=str(path))
    return obj


def has_weights(folder: Path) -> bool:
    return any(next(folder.glob(g), None) is not None for g in WEIGHT_GLOBS)


@lru_cache(maxsize=1)
def preset_index() -> dict[str, dict[str, Any]]:
    """``presets/index.json``: name → {hf_id, family, n_params_published_M, n_params_source, ...}."""
    path = PRESETS_DIR / "index.json"
    if not path.is_file():
        return {}
    return read_json(path, field_name="presets/index.json")


def find_preset(source: str) -> str | None:
    """Preset name for a preset name or HF id (case-insensitive), else None."""
    key = source.strip().lower()
    for name, info in preset_index().items():
        if key == name.lower() or key == str(info.get("hf_id", "")).lower():
            return name
    return None


def resolve(source: str, *, revision: str | None = None) -> ResolvedSource:
    """See :func:`attnscope.arch.resolve_source`."""
    from attnscope.archparse.parse import config_sha256

    if not isinstance(source, str) or not source.strip():
        raise ModelSourceError("expected a preset name, folder, config.json path or hub id",
                               field="model", value=source)
    s = source.strip()
    simple = "/" not in s and os.sep not in s and not s.startswith((".", "~"))
    if simple:
        mdir = models_dir() / s
        if (mdir / "config.json").is_file():
            cfg = read_json(mdir / "config.json")
            return ResolvedSource(s, "bundled-model", cfg, mdir if has_weights(mdir) else None,
                                  config_sha256(cfg))
    preset = find_preset(s)
    if preset is not None:
        cfg = read_json(PRESETS_DIR / f"{preset}.json")
        return ResolvedSource(preset, "preset", cfg, None, config_sha256(cfg),
                              hf_id=preset_index()[preset].get("hf_id"))
    p = Path(s).expanduser()
    if p.is_dir():
        if not (p / "config.json").is_file():
            raise ModelSourceError("folder has no config.json", field="model", value=s)
        cfg = read_json(p / "config.json")
        return ResolvedSource(p.name, "folder", cfg, p if has_weights(p) else None, config_sha256(cfg))
    if p.is_file():
        cfg = read_json(p)
        return ResolvedSource(str(p), "file", cfg, p.parent if has_weights(p.parent) else None,
                              config_sha256(cfg))
    if not simple and (s.startswith((".", "~", os.sep)) or s.endswith(".json") or not _HUB_ID.match(s)):
        raise ModelSourceError("no such file or folder", field="model", value=s)
    if not _HUB_ID.match(s):
        raise ModelSourceError("not a bundled preset, local folder, config.json or hub id", field="model", value=s)
    return _from_hub(s, revision)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _from_hub(repo_id: str, revision: str | None) -> ResolvedSource:
    from attnscope.archparse.parse import config_sha256

    if _offline():
        raise ModelSourceError(
            "not a bundled preset, local folder or config.json; hub lookups are offline (HF_HUB_OFFLINE=1): "
            f"download it with `huggingface-cli download {repo_id} config.json` or pass a local path",
            field="model", value=repo_id)
    try:
        from huggingface_hub import hf_hub_download  # lazy: only the hub branch needs it

        local = hf_hub_download(repo_id, "config.json", revision=revision)
    except Exception as exc:  # noqa: BLE001 - any hub failure becomes one actionable line
        raise ModelSourceError(
            f"not a bundled preset, local folder or config.json, and the hub lookup failed "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); check the id, or download it with "
            f"`huggingface-cli download {repo_id} config.json` and pass the local path",
            field="model", value=repo_id) from None
    cfg = read_json(Path(local))
    return ResolvedSource(repo_id, "hub", cfg, None, config_sha256(cfg), hf_id=repo_id)
