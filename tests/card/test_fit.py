"""Will-it-fit: KV sizes recomputed here from the published config values, independently of memory.py."""
import pytest

from attnscope.errors import DomainError
from attnscope.memory import GIB, WEIGHT_BYTES, estimate_memory, fit_on_gpus
from attnscope.recipes.prices import load_prices


def test_gqa_vs_mha_kv_bytes(archs):
    gqa = archs["llama-3-8b"]
    mha = gqa.model_copy(update={"n_kv_heads": gqa.n_heads})
    L, B = 8192, 4
    # K and V, per layer, per token: 2 · n_kv · d_head values of 2 bytes (bf16)
    expect_gqa = 2 * 32 * 8 * 128 * L * B * 2
    expect_mha = 2 * 32 * 32 * 128 * L * B * 2
    e_gqa = estimate_memory(gqa, context=L, batch=B, dtype="bf16")
    e_mha = estimate_memory(mha, context=L, batch=B, dtype="bf16")
    assert e_gqa.kv_bytes == expect_gqa == 4 * 2**30  # 4 GiB: the well-known 128 KiB/token of Llama-3-8B
    assert e_mha.kv_bytes == expect_mha
    assert e_mha.kv_bytes / e_gqa.kv_bytes == 4
    assert e_gqa.weights_bytes == pytest.approx(gqa.n_params_M * 1e6 * 2)


def test_mla_caches_the_latent(archs):
    ds = archs["deepseek-v2-lite"]
    L = 4096
    e = estimate_memory(ds, context=L, batch=1, dtype="bf16")
    assert e.kv_bytes == 27 * (512 + 64) * L * 2
    naive = 27 * 2 * 16 * 192 * L * 2  # what uncompressed per-head K/V would cost
    assert e.kv_bytes < naive / 10


def test_sliding_window_layers_cap_their_cache(archs):
    g = archs["gemma-2-9b"]
    L = 32768
    e = estimate_memory(g, context=L, batch=1, dtype="bf16")
    per_tok = 2 * 8 * 256 * 2
    assert e.kv_bytes == 21 * 4096 * per_tok + 21 * L * per_tok
    by_type = {k.layer_type: k for k in e.kv_layers}
    assert by_type["sliding_attention"].cached_tokens == 4096 and by_type["full_attention"].cached_tokens == L


def test_quantised_weights_and_no_attention(archs):
    a = archs["llama-3-8b"]
    n = a.n_params_M * 1e6
    emb = a.vocab_size * a.d_model * 2  # untied input + output embeddings stay 16-bit
    e = estimate_memory(a, context=1, batch=1, dtype="nf4")
    assert e.weights_bytes == pytest.approx((n - emb) * WEIGHT_BYTES["nf4"] + emb * 2)
    assert estimate_memory(a, context=1, dtype="int8").weights_bytes < estimate_memory(a, context=1).weights_bytes
    m = estimate_memory(archs["mamba-130m"], context=1024, batch=1)
    assert m.kv_bytes == 0 and any("state-space" in w for w in m.warnings)


def test_fit_on_gpus_counts_cards(archs):
    a = archs["llama-3-8b"]
    e = estimate_memory(a, context=8192, batch=64, dtype="bf16")  # 64 × 1 GiB of KV + 15 GiB weights
    table = load_prices()
    fits = {f.gpu: f for f in fit_on_gpus(e, table.gpus, reserve_gib=1.0)}
    h100 = fits["H100-SXM"]
    assert not h100.fits_one and h100.n_gpus == -(-e.total_gib // 79)
    assert fits["B200"].n_gpus <= h100.n_gpus
    small = estimate_memory(a, context=1024, batch=1, dtype="nf4")
    assert {f.gpu: f for f in fit_on_gpus(small, table.gpus)}["RTX-4090"].fits_one
    assert small.total_gib < 24 - 1


@pytest.mark.parametrize("kw", [{"context": 0}, {"context": -1}, {"batch": 0}, {"dtype": "int4"}])
def test_bad_inputs(archs, kw):
    args = {"context": 128, "batch": 1, "dtype": "bf16", **kw}
    with pytest.raises(DomainError):
        estimate_memory(archs["llama-3-8b"], **args)


def test_activation_estimate_formula(archs):
    a = archs["llama-3-8b"]
    e = estimate_memory(a, context=2048, batch=3, dtype="fp16")
    assert e.activation_bytes == 3 * 2048 * (2 * 4096 + 14336) * 2 + 3 * 128256 * 4
    assert e.total_bytes == e.weights_bytes + e.kv_bytes + e.activation_bytes
