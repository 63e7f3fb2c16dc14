"""Tensor sources: lazy, one-tensor-at-a-time access to a checkpoint's weights.

Two implementations share one interface, so the trained model and its
random-init null go through the same extraction code:

- :class:`SafetensorsSource` reads ``model.safetensors`` or a sharded checkpoint
  (``model.safetensors.index.json`` + shards) with ``safetensors.safe_open``;
  a tensor is read from disk only when asked for, and nothing is cached.
- :class:`StateDictSource` wraps an in-memory ``{name: tensor}`` mapping (the
  state dict of a random-init model).

Tensors come back as float32 numpy arrays (bf16/fp16 are upcast; the extraction
statistics are computed in float32 with float64 accumulation).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Protocol

import numpy as np

from attnscope.errors import ConfigError, ModelSourceError

INDEX_NAME = "model.safetensors.index.json"
SINGLE_NAME = "model.safetensors"


class TensorNameError(ConfigError):
    """A tensor the family's name map expects is missing, oddly named or oddly shaped."""


class TensorSource(Protocol):
    """Read-only access to named tensors, one at a time."""

    description: str

    def keys(self) -> frozenset[str]:
        """All tensor names."""

    def shape(self, name: str) -> tuple[int, ...]:
        """Shape of one tensor without reading its data."""

    def get(self, name: str) -> np.ndarray:
        """Read one tensor as a float32 numpy array (a fresh copy)."""


def _to_numpy(tensor) -> np.ndarray:
    import torch

    return tensor.detach().to(dtype=torch.float32, device="cpu").numpy()


class SafetensorsSource:
    """Lazy reader for a folder holding ``model.safetensors`` or a sharded index.

    Parameters
    ----------
    folder : path
        Folder with ``model.safetensors.index.json`` (sharded; takes precedence)
        or ``model.safetensors``.

    Raises
    ------
    ModelSourceError
        No safetensors weights in the folder (``pytorch_model.bin`` alone is refused:
        unpickling is unsafe and loads the whole file).
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        index = self.folder / INDEX_NAME
        single = self.folder / SINGLE_NAME
        if index.is_file():
            try:
                weight_map = json.loads(index.read_text())["weight_map"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ModelSourceError(f"malformed sharded-checkpoint index ({exc})", field="index", value=str(index)) from None
            self._file_of = {str(k): self.folder / str(v) for k, v in weight_map.items()}
            missing = sorted({str(p.name) for p in self._file_of.values() if not p.is_file()})
            if missing:
                raise ModelSourceError(f"index names shard(s) that are not on disk: {', '.join(missing)}", field="index", value=str(index))
            self.files = sorted(set(self._file_of.values()))
            self.sharded = True
        elif single.is_file():
            self.files = [single]
            self._file_of = {name: single for name in self._read_keys(single)}
            self.sharded = False
        else:
            hint = " (only pytorch_model.bin found: convert it to safetensors)" if (self.folder / "pytorch_model.bin").exists() else ""
            raise ModelSourceError(f"no {SINGLE_NAME} or {INDEX_NAME} in the folder{hint}", field="weights", value=str(self.folder))
        self.description = f"safetensors:{self.folder} ({len(self.files)} file{'s' if len(self.files) != 1 else ''})"

    @staticmethod
    def _read_keys(path: Path) -> list[str]:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as fh:
            return list(fh.keys())

    def keys(self) -> frozenset[str]:
        return frozenset(self._file_of)

    def _open(self, name: str):
        from safetensors import safe_open

        if name not in self._file_of:
            raise TensorNameError("tensor not in checkpoint", field="tensor", value=name)
        return safe_open(str(self._file_of[name]), framework="pt")

    def shape(self, name: str) -> tuple[int, ...]:
        with self._open(name) as fh:
            return tuple(fh.get_slice(name).get_shape())

    def get(self, name: str) -> np.ndarray:
        with self._open(name) as fh:
            return _to_numpy(fh.get_tensor(name))


class StateDictSource:
    """Tensor source over an in-memory mapping name -> torch tensor (or numpy array)."""

    def __init__(self, tensors: Mapping[str, object], *, description: str = "state_dict"):
        self._tensors = dict(tensors)
        self.description = description

    def keys(self) -> frozenset[str]:
        return frozenset(self._tensors)

    def shape(self, name: str) -> tuple[int, ...]:
        if name not in self._tensors:
            raise TensorNameError("tensor not in state dict", field="tensor", value=name)
        return tuple(self._tensors[name].shape)

    def get(self, name: str) -> np.ndarray:
        if name not in self._tensors:
            raise TensorNameError("tensor not in state dict", field="tensor", value=name)
        t = self._tensors[name]
        if isinstance(t, np.ndarray):
            return np.array(t, dtype=np.float32, copy=True)
        return _to_numpy(t).copy()

