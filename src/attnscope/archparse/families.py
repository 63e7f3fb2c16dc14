"""Family table: model_type → family, and each family's structural traits.

Traits record what the family's reference implementation (transformers modelling
code, or the original release code) fixes regardless of config.json: gated vs plain
MLP, which linear layers carry biases, norms per layer, default tying, and the
values the reference config class uses when a key is absent. Such defaults are
*not* guesses (the loaded model uses exactly them) and are reported as notes.
"""
from __future__ import annotations

from dataclasses import dataclass

FAMILY_OF_MODEL_TYPE: dict[str, str] = {
    "llama": "llama", "mistral": "mistral", "qwen2": "qwen2", "qwen3": "qwen3",
    "gpt_neox": "gpt_neox", "gptj": "gptj", "phi": "phi", "phi3": "phi3",
    "gemma": "gemma", "gemma2": "gemma2", "gemma3": "gemma3", "gemma3_text": "gemma3",
    "falcon": "falcon", "RefinedWeb": "falcon", "RefinedWebModel": "falcon",
    "bloom": "bloom", "gpt2": "gpt2", "olmo": "olmo", "hf_olmo": "olmo", "olmo2": "olmo2",
    "deepseek_v2": "deepseek_v2", "deepseek_v3": "deepseek_v3", "mamba": "mamba",
}

FAMILIES: tuple[str, ...] = (
    "llama", "mistral", "qwen2", "qwen3", "gpt_neox", "gptj", "phi", "phi3", "gemma", "gemma2",
    "gemma3", "falcon", "bloom", "gpt2", "olmo", "olmo2", "deepseek_v2", "deepseek_v3", "mamba",
    "unknown",
)


@dataclass(frozen=True)
class Traits:
    """Structural facts of a family's reference implementation.

    ``*_bias`` is a bool, or the name of the config key that switches it (with the
    implementation's default in ``bias_default``). ``norm_params`` is parameters per
    norm in units of its width (2 = LayerNorm with bias, 1 = RMSNorm / bias-free LN,
    0 = non-parametric LN). ``default_theta`` is the config-class default used when the
    key is absent (``theta_fixed``: the architecture hard-codes it, there is no key).
    """

    gated_mlp: bool
    qkv_bias: bool | str = False
    o_bias: bool | str = False
    mlp_bias: bool | str = False
    bias_default: bool = False
    norm_params: int = 1
    norms_per_layer: int = 2
    tie_default: bool | None = False
    lm_head_bias: bool = False
    qk_norm: str = "none"  # "none" | "head" (per head dim) | "full" (over all heads)
    default_theta: float | None = None
    theta_fixed: bool = False
    default_partial: float | None = None
    theta_source: str = ""


TRAITS: dict[str, Traits] = {
    "llama": Traits(True, "attention_bias", "attention_bias", "mlp_bias", default_theta=1e4,
                    theta_source="LlamaConfig default"),
    "mistral": Traits(True, default_theta=1e4, theta_source="MistralConfig default"),
    "qwen2": Traits(True, qkv_bias=True, default_theta=1e4, theta_source="Qwen2Config default"),
    "qwen3": Traits(True, "attention_bias", "attention_bias", qk_norm="head", default_theta=1e4,
                    theta_source="Qwen3Config default"),
    "gpt_neox": Traits(False, "attention_bias", "attention_bias", True, bias_default=True,
                       norm_params=2, default_theta=1e4, default_partial=0.25,
                       theta_source="GPTNeoXConfig default (rotary_emb_base)"),
    "gptj": Traits(False, False, False, True, norm_params=2, norms_per_layer=1, lm_head_bias=True,
                   default_theta=1e4, theta_fixed=True,
                   theta_source="GPT-J architecture: base 10000 is hard-coded in the GPT-J modelling "
                                "code (no config key exists)"),
    "phi": Traits(False, True, True, True, norm_params=2, norms_per_layer=1, lm_head_bias=True,
                  default_theta=1e4, default_partial=0.5, theta_source="PhiConfig default"),
    "phi3": Traits(True, default_theta=1e4, theta_source="Phi3Config default"),
    "gemma": Traits(True, "attention_bias", "attention_bias", tie_default=True, default_theta=1e4,
                    theta_source="GemmaConfig default"),
    "gemma2": Traits(True, "attention_bias", "attention_bias", norms_per_layer=4, tie_default=True,
                     default_theta=1e4, theta_source="Gemma2Config default"),
    "gemma3": Traits(True, "attention_bias", "attention_bias", norms_per_layer=4, tie_default=True,
                     qk_norm="head", default_theta=1e6,
                     theta_source="Gemma3TextConfig default (global 1e6, local 1e4)"),
    "falcon": Traits(False, "bias", "bias", "bias", norm_params=2, tie_default=True,
                     default_theta=1e4, theta_source="FalconConfig default"),
    "bloom": Traits(False, True, True, True, norm_params=2, tie_default=True),
    "gpt2": Traits(False, True, True, True, norm_params=2, tie_default=True),
    "olmo": Traits(True, "attention_bias", "attention_bias", norm_params=0, default_theta=1e4,
                   theta_source="OLMo reference default (OlmoConfig; hf_olmo ModelConfig rope_theta=10000)"),
    "olmo2": Traits(True, "attention_bias", "attention_bias", qk_norm="full", default_theta=1e4,
                    theta_source="Olmo2Config default"),
    "deepseek_v2": Traits(True, default_theta=1e4, theta_source="DeepseekV2Config default"),
    "deepseek_v3": Traits(True, default_theta=1e4, theta_source="DeepseekV3Config default"),
    "mamba": Traits(False, tie_default=True),
}
