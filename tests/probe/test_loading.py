"""load_model: folders with and without weights, random init under a seed, bad input."""
from __future__ import annotations

import json

import pytest
import torch

from attnscope.errors import AttnscopeError, ModelSourceError, ProtocolError, UnsupportedModelError
from attnscope.probe import attention_rows, load_model
from attnscope.probe.loading import resolve_device, resolve_dtype
from tiny_models import tiny_model

TINY_LLAMA = {
    "model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 4,
    "num_key_value_heads": 2, "num_hidden_layers": 2, "vocab_size": 128, "max_position_embeddings": 64,
    "initializer_range": 0.3,
}


def _config_folder(tmp_path, cfg=TINY_LLAMA):
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    return str(tmp_path)


def test_folder_without_weights_is_a_model_source_error(tmp_path):
    with pytest.raises(ModelSourceError, match="random-init"):
        load_model(_config_folder(tmp_path), dtype="float32", device="cpu")


def test_random_init_is_seeded(tmp_path):
    src = _config_folder(tmp_path)
    a, tok, resolved = load_model(src, dtype="float32", device="cpu", random_init=True, seed=7)
    b, _, _ = load_model(src, dtype="float32", device="cpu", random_init=True, seed=7)
    c, _, _ = load_model(src, dtype="float32", device="cpu", random_init=True, seed=8)
    wa, wb, wc = (m.model.layers[0].self_attn.q_proj.weight for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)
    assert tok is None and resolved.kind == "folder" and not a.training
    assert a.config.num_hidden_layers == 2


def test_folder_with_weights_loads_the_same_model(tmp_path):
    model = tiny_model("llama")
    model.save_pretrained(tmp_path)
    loaded, _, resolved = load_model(str(tmp_path), dtype="float32", device="cpu")
    assert resolved.path is not None
    ids = torch.arange(20)[None]
    torch.testing.assert_close(attention_rows(loaded, ids, [19]), attention_rows(model, ids, [19]))


def test_bfloat16_weights(tmp_path):
    model, _, _ = load_model(_config_folder(tmp_path), dtype="bfloat16", device="cpu", random_init=True)
    assert next(model.parameters()).dtype == torch.bfloat16
    assert attention_rows(model, torch.arange(10), [9]).dtype == torch.float32


def test_model_without_attention_is_refused(tmp_path):
    cfg = {"model_type": "mamba", "hidden_size": 32, "num_hidden_layers": 2, "vocab_size": 128}
    with pytest.raises(UnsupportedModelError, match="mamba"):
        load_model(_config_folder(tmp_path, cfg), dtype="float32", device="cpu", random_init=True)


def test_trust_remote_code_only_when_asked(tmp_path, monkeypatch):
    import transformers

    seen = {}
    real = transformers.AutoModelForCausalLM.from_config

    def spy(config, **kw):
        seen.update(kw)
        return real(config, **kw)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_config", spy)
    load_model(_config_folder(tmp_path), dtype="float32", device="cpu", random_init=True)
    assert "trust_remote_code" not in seen
    load_model(_config_folder(tmp_path), dtype="float32", device="cpu", random_init=True, trust_remote_code=True)
    assert seen["trust_remote_code"] is True


def test_preset_without_cached_weights_offline_says_what_to_do():
    with pytest.raises(ModelSourceError, match="offline|download"):
        load_model("pythia-70m", dtype="float32", device="cpu")


@pytest.mark.parametrize("dtype", ["fp8", "int4", "float64"])
def test_bad_dtype(dtype):
    with pytest.raises(ProtocolError, match="dtype"):
        resolve_dtype(dtype)


@pytest.mark.parametrize("device", ["gpu", "tpu", "cuda:x", ""])
def test_bad_device(device):
    with pytest.raises(ProtocolError, match="device"):
        resolve_device(device)


def test_auto_device_on_this_machine():
    assert resolve_device("auto").type in {"cpu", "cuda", "mps"}
    if not torch.cuda.is_available():
        with pytest.raises(ProtocolError, match="CUDA"):
            resolve_device("cuda")


def test_four_bit_needs_extra_or_cuda(tmp_path):
    model = tiny_model("llama")
    model.save_pretrained(tmp_path)
    with pytest.raises(AttnscopeError, match="quant|CUDA"):
        load_model(str(tmp_path), dtype="float32", device="cpu", load_in_4bit=True)


def test_random_init_refuses_device_map(tmp_path):
    with pytest.raises(ProtocolError, match="random"):
        load_model(_config_folder(tmp_path), dtype="float32", device="cpu", random_init=True, device_map="auto")


def test_bundled_model_by_name(tmp_path, monkeypatch):
    model = tiny_model("qwen3")
    model.save_pretrained(tmp_path / "tiny-probe-test")
    monkeypatch.setenv("ATTNSCOPE_MODELS_DIR", str(tmp_path))
    loaded, _, resolved = load_model("tiny-probe-test", dtype="float32", device="cpu")
    assert resolved.kind == "bundled-model"
    ids = torch.arange(16)
    torch.testing.assert_close(attention_rows(loaded, ids, [15]), attention_rows(model, ids, [15]))


def test_shipped_trained_model_probe_matches_eager():
    """The bundled trained model: tokenizer, rows == eager rows, log Z finite."""
    from attnscope.archparse.sources import models_dir

    if not (models_dir() / "tiny-main" / "model.safetensors").exists():
        pytest.skip("tiny-main is not bundled in this checkout")
    model, tok, resolved = load_model("tiny-main", dtype="float32", device="cpu")
    assert resolved.kind == "bundled-model" and tok is not None
    ids = torch.tensor(tok("The quick brown fox jumps over the lazy dog. " * 3)["input_ids"])
    q = [ids.numel() - 1, ids.numel() // 2]
    rows = attention_rows(model, ids, q)
    model.set_attn_implementation("eager")
    with torch.no_grad():
        ref = model(ids[None], output_attentions=True, use_cache=False).attentions
    torch.testing.assert_close(rows, torch.stack([a[0][:, q] for a in ref]), atol=1e-5, rtol=0)
