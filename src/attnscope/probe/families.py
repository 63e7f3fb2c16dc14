"""Which model families route attention through transformers' ``AttentionInterface``.

Most decoder families in transformers 5 call
``ALL_ATTENTION_FUNCTIONS.get_interface(config._attn_implementation, eager)``
from their attention module, so a registered backend sees every layer. A few
older families compute attention inline in their own module (GPT-J, Falcon,
BLOOM, CodeGen, GPT-Neo, MPT in transformers 5.23): a registered backend is
never called for them. Falcon, GPT-J and BLOOM have dedicated readers
(:mod:`attnscope.probe.falcon`, :mod:`~attnscope.probe.gptj`, :mod:`~attnscope.probe.bloom`).
For the others the probe switches the model to eager attention
and reads the requested query rows from each attention module's returned
weights with a forward hook (see :mod:`attnscope.probe.backend`), with a warning
naming the family: their per-layer cost is the eager O(H·T²) transient, and
log Z is not available (eager modules return probabilities only).
"""
from __future__ import annotations

import torch

__all__ = [
    "KNOWN_BYPASS_FAMILIES",
    "NO_ATTENTION_MODEL_TYPES",
    "family_of",
    "bypasses_interface",
    "fallback_warning",
    "DEDICATED_READERS",
    "reader_for",
    "attention_modules",
]

#: model_type values whose HF code bypasses the AttentionInterface (transformers 5.23).
KNOWN_BYPASS_FAMILIES = frozenset({"gptj", "falcon", "bloom", "codegen", "gpt_neo", "mpt"})

#: model_type values without any attention layer: nothing for the probe to read.
NO_ATTENTION_MODEL_TYPES = frozenset({"mamba", "mamba2", "falcon_mamba", "rwkv", "xlstm"})


def family_of(model: torch.nn.Module) -> str:
    """The ``config.model_type`` of a transformers model ("unknown" if it has none)."""
    config = getattr(model, "config", None)
    return str(getattr(config, "model_type", None) or "unknown")


def bypasses_interface(model: torch.nn.Module) -> bool:
    """True if the model's attention modules do not call the ``AttentionInterface``.

    Uses the known list, then transformers' own source heuristic
    (``PreTrainedModel._can_set_attn_implementation``: an ``*Attention(nn.Module)``
    class whose module never calls ``ALL_ATTENTION_FUNCTIONS.get_interface``).
    """
    if family_of(model) in KNOWN_BYPASS_FAMILIES:
        return True
    can_set = getattr(type(model), "_can_set_attn_implementation", None)
    if can_set is None:  # not a PreTrainedModel: nothing registers through the interface
        return True
    return not bool(can_set())


#: bypassing families with a dedicated reader: family -> module in attnscope.probe.
DEDICATED_READERS = {"falcon": "falcon", "gptj": "gptj", "bloom": "bloom"}


def reader_for(model: torch.nn.Module) -> str | None:
    """The dedicated reader of a bypassing family ("falcon", "gptj", "bloom"), else None."""
    family = family_of(model)
    return DEDICATED_READERS.get(family) if bypasses_interface(model) else None


def fallback_warning(model: torch.nn.Module) -> str | None:
    """The warning for a family whose layers the probe cannot run through SDPA, else None.

    Falcon (SDPA kept) and GPT-J (its ``_attn`` replaced by the exact blockwise
    kernel) need none; BLOOM keeps its eager O(H·T²) layers; any other bypassing
    family falls back to eager attention and reads probabilities (log Z = NaN).
    """
    if not bypasses_interface(model):
        return None
    family, cls = family_of(model), type(model).__name__
    reader = reader_for(model)
    if reader in ("falcon", "gptj"):
        return None
    if reader == "bloom":
        return (f"model family {family!r} ({cls}) computes attention eagerly inside its own module "
                "(it bypasses transformers' AttentionInterface): O(H*T^2) memory per layer while it runs; "
                "rows and log Z are read by a dedicated hook")
    return (
        f"model family {family!r} ({cls}) bypasses transformers' AttentionInterface: its layers fall back "
        "to eager attention (O(H*T^2) memory per layer while it runs, rows at the model's precision, "
        "log Z unavailable -> NaN)"
    )


def attention_modules(model: torch.nn.Module) -> list[tuple[int, torch.nn.Module]]:
    """(layer index, module) for every self-attention module, in layer order.

    The index is ``module.layer_idx`` when the family sets it (all families the
    probe knows), else the order of appearance. Nested ``*Attention`` modules
    inside an attention module are skipped.
    """
    found: list[tuple[str, torch.nn.Module]] = []
    for name, module in model.named_modules():
        if "Attention" not in type(module).__name__ or not name:
            continue
        if any(name.startswith(prev + ".") for prev, _ in found):
            continue
        if not hasattr(module, "layer_idx") and not any(
            hasattr(module, attr) for attr in ("q_proj", "query_key_value", "c_attn", "qkv_proj", "Wqkv")
        ):
            continue
        found.append((name, module))
    out = []
    for order, (_, module) in enumerate(found):
        idx = getattr(module, "layer_idx", None)
        out.append((int(idx) if isinstance(idx, int) else order, module))
    return out
