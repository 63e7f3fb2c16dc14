"""Load a causal LM (bundled model, preset, folder, config file or hub id) for probing.

The source is resolved by :func:`attnscope.arch.resolve_source` (bundled trained
model -> preset -> local folder -> config.json -> hub id). Weights come from the
resolved folder, else from the hub id (cached copy when offline). With
``random_init=True`` only the config is used and weights are drawn with an
explicit seed: the paper's own falsifier.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch

from attnscope.errors import ConfigError, ModelSourceError, ProtocolError, UnsupportedModelError, require_extra
from attnscope.probe.families import NO_ATTENTION_MODEL_TYPES

__all__ = ["load_model", "resolve_device", "resolve_dtype", "has_weights"]

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_WEIGHT_GLOBS = ("*.safetensors", "pytorch_model*.bin", "model.safetensors.index.json",
                 "pytorch_model.bin.index.json")
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")


def resolve_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """"float32" | "bfloat16" | "float16" (or a torch dtype among them) -> torch dtype."""
    if isinstance(dtype, torch.dtype) and dtype in _DTYPES.values():
        return dtype
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    raise ProtocolError(f"unknown dtype; choose one of {sorted(_DTYPES)}", field="dtype", value=str(dtype))


def resolve_device(device: str) -> torch.device:
    """"auto" -> cuda > mps > cpu; else "cpu", "cuda", "cuda:N" or "mps" (checked to exist)."""
    if not isinstance(device, str) or not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", device):
        raise ProtocolError("device must be auto, cpu, cuda, cuda:N or mps", field="device", value=device)
    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps is not None and mps.is_available())
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if mps_ok else torch.device("cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ProtocolError("CUDA is not available on this machine", field="device", value=device)
    if device == "mps" and not mps_ok:
        raise ProtocolError("MPS is not available on this machine", field="device", value=device)
    return torch.device(device)


def has_weights(folder: Path) -> bool:
    """True if ``folder`` holds safetensors / PyTorch weight files (or their index)."""
    return any(any(folder.glob(pattern)) for pattern in _WEIGHT_GLOBS)


def _hub_id(source: str, resolved: Any) -> str | None:
    """The hub repository id to fetch weights from, if the source names one."""
    hf_id = getattr(resolved, "hf_id", None)
    if hf_id:
        return str(hf_id)
    if resolved.kind == "hub":
        return source
    return None


def _tokenizer(where: str | Path, revision: str | None, trust: dict) -> Any | None:
    from transformers import AutoTokenizer

    if isinstance(where, Path) and not any((where / f).exists() for f in _TOKENIZER_FILES):
        return None
    try:
        return AutoTokenizer.from_pretrained(str(where), revision=revision, **trust)
    except (OSError, ValueError):  # no tokenizer shipped: the caller tokenizes nothing (random corpus)
        return None


def load_model(
    source: str,
    *,
    dtype: str | torch.dtype = "float32",
    device: str = "auto",
    revision: str | None = None,
    random_init: bool = False,
    trust_remote_code: bool = False,
    seed: int = 0,
    load_in_4bit: bool = False,
    device_map: str | None = None,
) -> tuple[torch.nn.Module, Any | None, Any]:
    """Load ``source`` as an eval-mode causal LM.

    Parameters
    ----------
    source : str
        Bundled model name, preset name or HF id, local folder, config.json path or hub id.
    dtype : {"float32", "bfloat16", "float16"}
        Weight dtype (the probe's logits and softmax are float32 regardless).
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"}
        "auto" picks cuda > mps > cpu. Ignored with ``device_map``.
    revision : str, optional
        Hub revision (branch, tag or commit).
    random_init : bool
        Build the architecture from its config with fresh weights drawn under ``seed``.
    trust_remote_code : bool
        Passed to transformers only when True (``--trust-remote-code``).
    seed : int
        Seed of ``torch.manual_seed`` for ``random_init``.
    load_in_4bit : bool
        bitsandbytes 4-bit weights (extra ``attnscope[quant]``, CUDA only).
    device_map : {"auto"}, optional
        Shard a model larger than one GPU through accelerate (extra ``attnscope[accel]``).

    Returns
    -------
    (model, tokenizer or None, ResolvedSource)

    Raises
    ------
    ModelSourceError
        Unresolvable source, or no weights for it (folder without weights, offline hub).
    UnsupportedModelError
        A model without attention layers (Mamba, RWKV, ...).
    """
    from transformers import AutoConfig, AutoModelForCausalLM

    from attnscope.arch import resolve_source

    torch_dtype = resolve_dtype(dtype)
    resolved = resolve_source(source, revision=revision)
    model_type = str(resolved.config.get("model_type", ""))
    if model_type in NO_ATTENTION_MODEL_TYPES:
        raise UnsupportedModelError("this model family has no attention layers to measure",
                                    field="model_type", value=model_type)
    if device_map not in (None, "auto"):
        raise ProtocolError("device_map must be 'auto' or omitted", field="device_map", value=device_map)
    if random_init and (load_in_4bit or device_map):
        raise ProtocolError("--random-init builds weights in memory: use it without --load-in-4bit/--device-map",
                            field="random_init", value=True)
    trust = {"trust_remote_code": True} if trust_remote_code else {}
    target = None if device_map else resolve_device(device)
    folder = Path(resolved.path) if resolved.path is not None else None

    if random_init:
        if folder is not None and (folder / "config.json").exists():
            config = AutoConfig.from_pretrained(str(folder), **trust)
        else:
            cfg = {k: v for k, v in resolved.config.items() if k != "model_type"}
            try:
                config = AutoConfig.for_model(model_type, **cfg)
            except ValueError as exc:
                raise ConfigError(f"transformers does not know this model_type ({exc})",
                                  field="model_type", value=model_type) from exc
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config, dtype=torch_dtype, **trust)
        tokenizer = _tokenizer(folder, revision, trust) if folder is not None else None
        return model.to(target).eval(), tokenizer, resolved

    if folder is not None and has_weights(folder):
        where: str | Path = folder
    else:
        hub = _hub_id(source, resolved)
        if hub is None:
            raise ModelSourceError(
                f"{resolved.kind} {resolved.name!r} has a config but no weights; point to a folder with "
                "*.safetensors, or pass --random-init to measure the architecture with fresh weights",
                field="source", value=source)
        where = hub
    kwargs: dict[str, Any] = {"dtype": torch_dtype, **trust}
    if isinstance(where, str):
        kwargs["revision"] = revision
    if load_in_4bit:
        require_extra("bitsandbytes", "quant")
        if target is not None and target.type != "cuda":
            raise ProtocolError("--load-in-4bit needs a CUDA device", field="device", value=device)
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch_dtype)
    if device_map:
        require_extra("accelerate", "accel")
        kwargs["device_map"] = device_map
    elif load_in_4bit:
        kwargs["device_map"] = {"": target.index or 0}
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # the caller shows its own progress
    try:
        model = AutoModelForCausalLM.from_pretrained(str(where), **kwargs)
    except OSError as exc:
        offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
        hint = ("the hub is offline (HF_HUB_OFFLINE=1): download it first with "
                f"`huggingface-cli download {where}` on a connected machine, or pass a local folder"
                if offline else "check the id/revision, your network and `huggingface-cli login`")
        raise ModelSourceError(f"cannot load weights: {hint}", field="source", value=source) from exc
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    if "device_map" not in kwargs:
        model = model.to(target)
    return model.eval(), _tokenizer(where, revision, trust), resolved
