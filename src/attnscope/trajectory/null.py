"""The random-init null: the same architecture with freshly initialised weights.

The model is built with ``AutoModelForCausalLM.from_config`` under
``torch.manual_seed(seed)`` (transformers' own initialisation, e.g. N(0,
initializer_range^2) linears and unit norm gains) and its state dict is read
through the same :class:`~attnscope.trajectory.sources.StateDictSource`
interface and extraction code as the trained checkpoint. It is the only place in
``trajectory`` that builds a model, and only for the null.
"""
from __future__ import annotations

from typing import Any

from attnscope.errors import ConfigError, ProtocolError
from attnscope.trajectory.sources import StateDictSource


def check_null_size(n_params_M: float, max_params_M: float) -> None:
    """Refuse (ProtocolError) a null larger than ``max_params_M`` million parameters, before any work."""
    if n_params_M > max_params_M:
        raise ProtocolError(
            f"the random-init null holds the whole model in float32 ({n_params_M:.0f}M params, "
            f"~{4 * n_params_M / 1000:.1f} GB); pass --no-null, or raise --null-max-params-m above {n_params_M:.0f}",
            field="null_max_params_m", value=max_params_M)


def random_init_source(cfg: dict[str, Any], *, seed: int, n_params_M: float, max_params_M: float) -> StateDictSource:
    """Build the random-init model of ``cfg`` and wrap its state dict.

    Parameters
    ----------
    cfg : dict
        Raw config.json (a multimodal wrapper's ``text_config`` is used when present).
    seed : int
        ``torch.manual_seed`` before construction (recorded in the output).
    n_params_M, max_params_M : float
        Estimated size (ArchSpec.n_params_M) and the refusal limit, in millions of
        parameters: the null holds the whole float32 model in memory.

    Raises
    ------
    ProtocolError
        The model is larger than ``max_params_M``.
    ConfigError
        transformers does not know the model_type.
    """
    check_null_size(n_params_M, max_params_M)
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    use = cfg
    model_type = str(cfg.get("model_type", ""))
    if isinstance(cfg.get("text_config"), dict) and "num_hidden_layers" not in cfg:
        use = dict(cfg["text_config"])
        model_type = str(use.get("model_type") or f"{model_type}_text")
    kwargs = {k: v for k, v in use.items() if k != "model_type"}
    try:
        config = AutoConfig.for_model(model_type, **kwargs)
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"transformers cannot build this model_type for the null ({exc})",
                          field="model_type", value=model_type) from None
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    state = {k: v.detach() for k, v in model.state_dict().items()}
    del model
    return StateDictSource(state, description=f"random-init {model_type} (torch.manual_seed({seed}))")
