"""The cache integration: multi-token forwards after eviction, per-layer sizes, hook lifecycle."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from attnscope.errors import ProtocolError, UnsupportedModelError
from attnscope.kv import GammaWindow, SinkWindow
from attnscope.kv.cache import KV_BACKEND, kv_backend


def test_chunk_after_eviction_with_per_layer_sizes(tiny):
    """Prefill 20 tokens, evict (layers keep different counts), then a 6-token chunk with past_key_values.

    Reference: ONE forward of all 26 tokens with explicit per-layer masks: prefill rows causal, chunk rows
    see the keys each layer kept plus the chunk causally. Exercises the mask right-alignment.
    """
    ids = torch.randint(2, 64, (2, 26), generator=torch.Generator().manual_seed(5))
    policy = GammaWindow(gammas=[0.3, 2.0], f=0.6, n_sink=2)
    with torch.no_grad(), policy(tiny, context=26) as cache:
        tiny(ids[:, :20], past_key_values=cache)
        kept = [cache.positions(layer) for layer in range(2)]
        assert len(kept[0]) != len(kept[1])  # the point of the test: layers hold different numbers of keys
        chunk = tiny(ids[:, 20:], past_key_values=cache).logits
    masks = []
    for layer in range(2):
        m = np.tril(np.ones((26, 26), dtype=bool))
        m[20:, :20] = False
        m[20:, kept[layer]] = True
        masks.append(m)
    with torch.no_grad(), kv_backend(tiny, masks=masks):
        ref = tiny(ids, use_cache=False).logits[:, 20:]
    assert torch.allclose(chunk, ref, atol=2e-5, rtol=0), (chunk - ref).abs().max()


def test_backend_restored_even_on_error(tiny):
    from transformers.modeling_utils import AttentionInterface

    before = tiny.config._attn_implementation
    with pytest.raises(RuntimeError, match="boom"):
        with SinkWindow(budget=8, n_sink=1)(tiny, context=16):
            assert tiny.config._attn_implementation == KV_BACKEND
            raise RuntimeError("boom")
    assert tiny.config._attn_implementation == before
    assert KV_BACKEND not in AttentionInterface._global_mapping


def test_cache_reports_tokens_seen_and_refuses_crop(tiny):
    ids = torch.randint(2, 64, (1, 12))
    with torch.no_grad(), SinkWindow(budget=6, n_sink=1)(tiny, context=12) as cache:
        tiny(ids, past_key_values=cache)
        assert cache.get_seq_length() == 12  # positions continue from the tokens seen
        assert len(cache.positions(0)) == 5 and cache.nbytes() > 0
        with pytest.raises(ProtocolError, match="cropped"):
            cache.crop(-1)


def test_masks_for_wrong_length_are_refused(tiny):
    masks = SinkWindow(budget=6, n_sink=1).bind(2, 12).simulate(12)
    with torch.no_grad(), kv_backend(tiny, masks=masks), pytest.raises(ProtocolError, match="another length"):
        tiny(torch.randint(2, 64, (1, 10)), use_cache=False)


def test_sliding_window_models_are_refused():
    from transformers import MistralConfig, MistralForCausalLM

    cfg = MistralConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                        num_attention_heads=2, num_key_value_heads=1, sliding_window=8)
    with pytest.raises(UnsupportedModelError, match="full-attention"):
        with SinkWindow(budget=8, n_sink=1)(MistralForCausalLM(cfg), context=16):
            pass


def test_ring_buffer_then_chunk(tiny):
    """Token-by-token decoding (window policies switch to the in-place ring buffer), then a 6-token chunk.

    Reference: one forward with per-layer masks — rows < 20 as simulated decoding, chunk rows see the
    keys kept after token 20 plus the chunk causally.
    """
    ids = torch.randint(2, 64, (1, 26), generator=torch.Generator().manual_seed(6))
    policy = GammaWindow(gammas=[0.3, 2.0], f=0.6, n_sink=2)
    with torch.no_grad(), policy(tiny, context=26) as cache:
        steps = [tiny(ids[:, i:i + 1], past_key_values=cache).logits for i in range(20)]
        assert all(layer._ring is not None for layer in cache.layers)  # the ring path is what is tested
        kept = [cache.positions(layer) for layer in range(2)]
        chunk = tiny(ids[:, 20:], past_key_values=cache).logits
        assert all(layer._ring is None for layer in cache.layers)
        for layer, b in enumerate(policy.budgets()):  # after the chunk: sinks + the most recent keys again
            pos = cache.positions(layer).tolist()
            assert pos == [0, 1] + list(range(26 - (b - 3), 26))
    sim = policy.bind(2, 26).simulate(20)
    masks = []
    for layer in range(2):
        m = np.zeros((26, 26), dtype=bool)
        m[:20, :20] = sim[layer]
        m[20:, kept[layer]] = True
        m[20:, 20:] = np.tril(np.ones((6, 6), dtype=bool))
        masks.append(m)
    with torch.no_grad(), kv_backend(tiny, masks=masks):
        ref = tiny(ids, use_cache=False).logits
    assert torch.allclose(torch.cat(steps, 1), ref[:, :20], atol=2e-5, rtol=0)
    assert torch.allclose(chunk, ref[:, 20:], atol=2e-5, rtol=0), (chunk - ref[:, 20:]).abs().max()
