"""The probe backend registers only inside ``probing`` and restores everything on exit."""
from __future__ import annotations

import warnings

import pytest
import torch

from attnscope.errors import ProtocolError, UnsupportedModelError
from attnscope.probe import attention_rows, probe_forward, probing, rows_and_log_partition
from attnscope.probe.backend import BACKEND_NAME, is_registered
from tiny_models import QUERIES, T, cached_model, tiny_model


class Boom(RuntimeError):
    pass


def _boom(*_):
    raise Boom("reducer failed")


@pytest.mark.parametrize("family", ["llama", "gemma2", "gptj", "falcon"])
def test_state_restored_even_on_exception(family, ids):
    model = cached_model(family)
    model.train()
    before = model.config._attn_implementation
    n_hooks = sum(len(m._forward_hooks) for m in model.modules())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Boom):
            probe_forward(model, ids, QUERIES, _boom)
    assert model.config._attn_implementation == before
    assert model.training is True
    assert sum(len(m._forward_hooks) for m in model.modules()) == n_hooks
    assert not is_registered()
    model.eval()


def test_registered_only_inside_and_nested_blocks(ids):
    model = cached_model("llama")
    assert not is_registered()
    with probing(model, [1], lambda *a: None):
        assert is_registered() and model.config._attn_implementation == BACKEND_NAME
        with probing(cached_model("qwen3"), [2], lambda *a: None):
            assert is_registered()
        assert is_registered()  # the inner block must not unregister the outer one
    assert not is_registered()
    assert model.config._attn_implementation == "sdpa"


@pytest.mark.parametrize("family", ["gpt_neo", "codegen", "bloom"])
def test_eager_families_warn_by_name(family, ids):
    model = cached_model(family)
    got = []
    with pytest.warns(UserWarning, match=family):
        with probing(model, [3], lambda i, r, z: got.append((i, z))) as state:
            with torch.no_grad():
                model(ids, use_cache=False)
    assert family in state.warnings[0]
    assert sorted(i for i, _ in got) == [0, 1]
    # generic eager fallback reads probabilities only; BLOOM's reader recomputes log Z
    assert state.fallback_eager == (family != "bloom")
    assert all(torch.isnan(z).all() for _, z in got) == state.fallback_eager


@pytest.mark.parametrize("family", ["gptj", "falcon"])
def test_dedicated_readers_do_not_warn_and_give_log_z(family, ids):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _, log_z = rows_and_log_partition(cached_model(family), ids, QUERIES)
    assert torch.isfinite(log_z).all()


def test_gptj_override_is_removed_afterwards(ids):
    model = cached_model("gptj")
    attention_rows(model, ids, [4])
    assert all("_attn" not in m.__dict__ for m in model.modules())


def test_interface_family_does_not_warn(ids):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        attention_rows(cached_model("llama"), ids, [5])


def test_reducer_sees_q_sized_rows_per_layer(ids):
    """Each layer hands Q rows (never T x T); reducer calls follow layer order."""
    model = cached_model("mistral")
    shapes, order = [], []

    def reducer(layer_idx, rows, log_z):
        shapes.append((tuple(rows.shape), tuple(log_z.shape), rows.dtype))
        order.append(layer_idx)

    probe_forward(model, ids, [7, 30], reducer)
    assert order == [0, 1]
    h = model.config.num_attention_heads
    assert shapes == [((1, h, 2, T), (1, h, 2), torch.float32)] * 2


def test_bf16_model_gives_float32_rows_close_to_float32_model(ids):
    m32 = cached_model("llama")
    m16 = tiny_model("llama", dtype=torch.bfloat16)
    m16.load_state_dict(m32.state_dict())
    r32 = attention_rows(m32, ids, QUERIES)
    r16 = attention_rows(m16, ids, QUERIES)
    assert r16.dtype == torch.float32
    torch.testing.assert_close(r16.sum(-1), torch.ones_like(r16.sum(-1)), atol=1e-5, rtol=0)
    # softmax in float32: the rows are not bf16-rounded values
    vis = r16 > 0
    assert (r16.to(torch.bfloat16).float() != r16)[vis].float().mean().item() > 0.5
    assert (r16 - r32).abs().max().item() < 0.15  # bf16 weights move q, k a little


@pytest.mark.parametrize("bad", [[], [T], [-1], [[1, 2]], [0.5]])
def test_bad_query_positions(bad, ids):
    with pytest.raises(ProtocolError, match="query_positions"):
        attention_rows(cached_model("llama"), ids, bad)
    assert not is_registered()


def test_bad_input_ids():
    with pytest.raises(ProtocolError, match="input_ids"):
        attention_rows(cached_model("llama"), torch.zeros(1, 2, 3, dtype=torch.long), [0])
    with pytest.raises(ProtocolError, match="input_ids"):
        attention_rows(cached_model("llama"), torch.zeros(2, 5, dtype=torch.long), [0])


def test_model_without_attention_is_refused():
    class Mamba(torch.nn.Module):
        class config:  # noqa: N801 - mimics a HF config
            model_type = "mamba"

    with pytest.raises(UnsupportedModelError, match="mamba"):
        with probing(Mamba(), [0], lambda *a: None):
            pass
    assert not is_registered()


@pytest.mark.parametrize("family", ["llama", "gpt2", "gemma2"])
def test_mlp_chunking_is_exact_and_removed_afterwards(family, ids):
    model = cached_model(family)
    ref_rows = []
    ref = probe_forward(model, ids, QUERIES, lambda i, r, z: ref_rows.append(r))
    got_rows = []
    out = probe_forward(model, ids, QUERIES, lambda i, r, z: got_rows.append(r), mlp_chunk=7)
    torch.testing.assert_close(out.logits, ref.logits, atol=1e-5, rtol=0)
    for a, b in zip(got_rows, ref_rows):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
    assert all("forward" not in m.__dict__ for m in model.modules())
    with pytest.raises(ProtocolError, match="mlp_chunk"):
        probe_forward(model, ids, QUERIES, lambda *a: None, mlp_chunk=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_non_finite_attention_is_detected_and_explained(dtype, ids):
    model = tiny_model("llama", dtype=dtype)
    with torch.no_grad():
        model.model.layers[0].self_attn.k_proj.weight[0, 0] = float("nan")
    expect = "float16 overflows" if dtype == torch.float16 else "NaN/inf"
    with pytest.raises(ProtocolError, match=expect):
        attention_rows(model, ids, QUERIES)
    assert not is_registered()


@pytest.mark.parametrize("family", ["gptj", "gpt_neo"])
def test_non_finite_is_detected_in_bypassing_families_too(family, ids):
    model = tiny_model(family)
    with torch.no_grad():
        attn = model.transformer.h[1].attn
        k_proj = attn.k_proj if family == "gptj" else attn.attention.k_proj
        k_proj.weight[0, 0] = float("inf") if family == "gptj" else float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ProtocolError, match="layer 1"):
            attention_rows(model, ids, QUERIES)
