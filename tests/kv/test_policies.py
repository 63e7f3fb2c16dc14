"""Every policy keeps exactly the tokens it claims to keep, during decoding, prefill and generate.

One shared matrix (kvpress-style): each row is a policy and the independent rule
of what it must hold after n tokens; the invariants are checked for every row.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from attnscope.errors import ProtocolError, RecordError
from attnscope.kv import POLICIES, FullCache, GammaWindow, RandomEvict, SinkWindow, SoftDecay, make_policy
from attnscope.kv.cache import kv_backend
from attnscope.kv.soft_decay import strides
from attnscope.theory import kv_window

T = 40


def _sink_recent(n, sinks, budget):
    """Expected after n tokens: sinks + the last budget-1-sinks positions (all if it fits)."""
    cap = budget - 1
    if n <= cap:
        return list(range(n))
    return list(range(sinks)) + list(range(n - (cap - sinks), n))


MATRIX = [
    ("full", lambda: FullCache(), lambda layer, n: list(range(n))),
    ("sink_window", lambda: SinkWindow(budget=10, n_sink=2), lambda layer, n: _sink_recent(n, 2, 10)),
    ("gamma_window", lambda: GammaWindow(gammas=[0.5, 1.5], f=0.8, n_sink=2),
     lambda layer, n: _sink_recent(n, 2, 2 + kv_window([0.5, 1.5][layer], T - 1, 0.8) + 1)),
    ("soft_decay", lambda: SoftDecay(budget=12, gammas=1.0, n_sink=2), None),
    ("random", lambda: RandomEvict(budget=10, n_sink=2, seed=3), None),
]
IDS = [m[0] for m in MATRIX]


def test_matrix_covers_every_registered_policy():
    assert set(IDS) == set(POLICIES)


def _decode(model, policy, ids, context=T):
    """Token-by-token teacher-forced decoding with the evicting cache; positions stored after each step."""
    hist = []
    with torch.no_grad(), policy(model, context=context) as cache:
        logits = []
        for i in range(ids.shape[1]):
            logits.append(model(ids[:, i:i + 1], past_key_values=cache).logits)
            hist.append([cache.positions(layer) for layer in range(len(cache.layers))])
        keys = [layer.kept_kv()[0].clone() for layer in cache.layers]
    return torch.cat(logits, 1), hist, keys


@pytest.mark.parametrize("name,make,expected", MATRIX, ids=IDS)
def test_policy_keeps_what_it_claims(tiny, name, make, expected):
    ids = torch.randint(2, 64, (2, T), generator=torch.Generator().manual_seed(0))
    policy = make()
    _, hist, keys = _decode(tiny, policy, ids)
    budgets = policy.budgets()
    full_keys = _decode(tiny, FullCache(), ids)[2]
    for step, per_layer in enumerate(hist):
        n = step + 1
        for layer, pos in enumerate(per_layer):
            assert np.all(np.diff(pos) > 0) and pos[-1] == n - 1 or len(pos) < n  # sorted; newest kept or evicted
            if budgets[layer] is not None:
                assert len(pos) <= budgets[layer] - 1
            if expected is not None:
                assert pos.tolist() == expected(layer, n), (name, layer, n)
            if step:
                prev = set(hist[step - 1][layer].tolist()) | {n - 1}
                assert set(pos.tolist()) <= prev  # evicted tokens never come back
            assert set(range(min(2, n))) <= set(pos.tolist()) or name == "full"  # sinks always kept
    # Layer 0's keys depend only on the token and its position (deeper layers see the evicted context), so
    # the tensors stored in layer 0 must be exactly the full cache's keys at the claimed positions.
    pos0 = torch.as_tensor(hist[-1][0])
    assert torch.equal(keys[0], full_keys[0][:, :, pos0, :])


def test_soft_decay_rule_and_budget(tiny):
    pol = SoftDecay(budget=12, gammas=1.0, n_sink=2).bind(2, T)
    _, hist, _ = _decode(tiny, pol, torch.randint(2, 64, (1, T)))
    w = pol.windows_[0]
    for step, per_layer in enumerate(hist):
        pos = per_layer[0]
        rest = pos[pos >= 2]
        d = step - rest
        assert np.all(rest % strides(d, w, 1.0) == 0)  # only stride-aligned older tokens survive
    assert len(hist[-1][0]) == 11  # the whole budget is used (budget 12 = 11 stored + the query)


def test_random_is_seeded_and_differs_by_seed(tiny):
    ids = torch.randint(2, 64, (1, T), generator=torch.Generator().manual_seed(1))
    a = _decode(tiny, RandomEvict(budget=10, n_sink=2, seed=3), ids)[1][-1]
    b = _decode(tiny, RandomEvict(budget=10, n_sink=2, seed=3), ids)[1][-1]
    c = _decode(tiny, RandomEvict(budget=10, n_sink=2, seed=4), ids)[1][-1]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))


@pytest.mark.parametrize("name,make,expected", MATRIX, ids=IDS)
def test_simulated_masks_equal_decoding(tiny, name, make, expected):
    """Teacher-forced evaluation (one forward, per-layer masks) == token-by-token decoding with the cache."""
    ids = torch.randint(2, 64, (2, T), generator=torch.Generator().manual_seed(2))
    policy = make()
    dec = _decode(tiny, policy, ids)[0]
    masks = policy.simulate(T)
    with torch.no_grad(), kv_backend(tiny, masks=masks):
        sim = tiny(ids, use_cache=False).logits
    # float32 rounding only: the same keys in a different kernel shape (decode vs full forward)
    assert torch.allclose(sim, dec, atol=2e-5, rtol=0), (sim - dec).abs().max()
    if name != "full":
        assert masks is not None and all(m.sum(1).max() <= b for m, b in zip(masks, policy.budgets()))


def test_full_policy_identical_to_no_policy(tiny):
    ids = torch.randint(2, 64, (2, 30), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        plain = tiny(ids).logits
        with FullCache()(tiny, context=30) as cache:
            with_policy = tiny(ids, past_key_values=cache).logits
        assert torch.equal(plain, with_policy)
        assert FullCache().bind(2, 30).simulate(30) is None  # evaluation runs the plain forward
        g0 = tiny.generate(ids[:1, :10], max_new_tokens=12, do_sample=False)
        with FullCache()(tiny, context=30) as cache:
            g1 = tiny.generate(ids[:1, :10], past_key_values=cache, max_new_tokens=12, do_sample=False)
    assert torch.equal(g0, g1)


@pytest.mark.parametrize("name,make,expected", MATRIX, ids=IDS)
def test_generate_with_policy_matches_manual_greedy(tiny, name, make, expected):
    """model.generate with the cache == prefill + greedy steps with the same cache (positions included)."""
    ids = torch.randint(2, 64, (1, 12), generator=torch.Generator().manual_seed(4))
    new = 20
    with torch.no_grad():
        with make()(tiny, context=32) as cache:
            gen = tiny.generate(ids, attention_mask=torch.ones_like(ids), past_key_values=cache,
                                max_new_tokens=new, do_sample=False, min_new_tokens=new)
            n_stored = [len(cache.positions(layer)) for layer in range(2)]
        policy = make()
        with policy(tiny, context=32) as cache:
            out = tiny(ids, past_key_values=cache).logits[:, -1]
            seq = [ids]
            for _ in range(new):
                nxt = out.argmax(-1, keepdim=True)
                seq.append(nxt)
                out = tiny(nxt, past_key_values=cache).logits[:, -1]
    assert torch.equal(gen, torch.cat(seq, 1))
    for layer, b in enumerate(policy.budgets()):
        assert n_stored[layer] == (12 + new - 1 if b is None else min(b - 1, 12 + new - 1))


def test_bad_parameters_are_one_line_errors():
    with pytest.raises(ProtocolError, match="budget"):
        SinkWindow(budget=3, n_sink=4).bind(2, 64)
    with pytest.raises(ProtocolError, match="budget"):
        RandomEvict(budget=12.5).bind(2, 64)
    with pytest.raises(ProtocolError, match="one value per layer"):
        SinkWindow(budget=[16, 16, 16]).bind(2, 64)
    with pytest.raises(ProtocolError, match="f"):
        GammaWindow(gammas=1.0, f=1.5).bind(2, 64)
    with pytest.raises(ProtocolError, match="gamma"):
        SoftDecay(budget=16, gammas=float("nan")).bind(2, 64)
    with pytest.raises(ProtocolError, match="unknown KV policy"):
        make_policy("lru")
    with pytest.raises(ProtocolError, match="not bound"):
        SinkWindow().simulate(10)


def test_gamma_window_from_prediction_and_record(tmp_path):
    from attnscope.theory import gamma_pade

    gw = GammaWindow.from_prediction(10000.0, 256).bind(4, 256)
    assert gw.windows_ == [kv_window(gamma_pade(10000.0, 256), 255, 0.9)] * 4
    assert gw.budgets() == [min(4 + D + 1, 256) for D in gw.windows_]
    with pytest.raises(RecordError, match="no such"):
        GammaWindow.from_record(tmp_path / "missing.jsonl")


def _record(path, gammas):
    from attnscope.io import append_jsonl
    from attnscope.records import Measurement, MeasurementRecord, Provenance, UnitGamma

    m = Measurement(gamma=float(np.mean([g for g in gammas if g is not None])), ci_method="test", method="ols_loglog",
                    protocol="rows", T_eval=48, corpus="text", n_prompts_per_distance=2, seeds=[0], distances=[1],
                    precision="float32", per_layer=[UnitGamma(layer=i, gamma=g) for i, g in enumerate(gammas)])
    append_jsonl(path, MeasurementRecord(key="k", model_id="tiny", measurement=m, provenance=Provenance(attnscope="t")))
    return path


def test_gamma_window_from_a_measurement_record(tmp_path):
    gw = GammaWindow.from_record(_record(tmp_path / "m.jsonl", [0.2, 1.4]), f=0.9, n_sink=2).bind(2, 48)
    assert gw.gamma_source == "measurement.per_layer"
    assert gw.windows_ == [kv_window(0.2, 47, 0.9), kv_window(1.4, 47, 0.9)] and gw.windows_[0] > gw.windows_[1]
    with pytest.raises(RecordError, match="no gamma for these layers"):
        GammaWindow.from_record(_record(tmp_path / "bad.jsonl", [0.3, None]))


def test_kv_eval_with_measured_gammas(tiny_folder, tmp_path):
    from attnscope.kv.evaluate import kv_eval

    res = kv_eval(str(tiny_folder), policies=["gamma_window"], budgets=[8, 16], fractions=[0.9], prompts=2,
                  n_boot=20, gamma_record=str(_record(tmp_path / "m.jsonl", [0.2, 1.4])), device="cpu")
    gw = next(p for p in res.points if p.policy == "gamma_window")
    assert res.predictions["gamma_source"] == "measurement.per_layer"
    assert gw.budgets_per_layer == [min(4 + kv_window(g, 47, 0.9) + 1, 48) for g in (0.2, 1.4)]
    with pytest.raises(ProtocolError, match="layers"):
        kv_eval(str(tiny_folder), policies=["gamma_window"], budgets=[8], prompts=2, n_boot=20, device="cpu",
                gamma_record=str(_record(tmp_path / "m3.jsonl", [0.2, 0.3, 0.4])))


INCREMENTAL = [
    ("soft_decay_g1", lambda: SoftDecay(budget=12, gammas=1.0, n_sink=2)),
    ("soft_decay_layers", lambda: SoftDecay(budget=[14, 30], gammas=[2.5, 0.4], n_sink=2)),
    ("soft_decay_g0", lambda: SoftDecay(budget=10, gammas=0.0, n_sink=0)),
    ("random", lambda: RandomEvict(budget=10, n_sink=2, seed=3)),
    ("random_layers", lambda: RandomEvict(budget=[7, 25], n_sink=4, seed=11)),
]


@pytest.mark.parametrize("make", [m[1] for m in INCREMENTAL], ids=[m[0] for m in INCREMENTAL])
def test_incremental_eviction_equals_keep_indices(make):
    """step_evict (the cache's per-token path) keeps exactly what keep_indices keeps, draws included.

    Decodes past the bound context (64) so soft decay also takes its beyond-the-table branch.
    """
    policy = make().bind(2, 64)
    n_steps = 150
    for layer in range(2):
        policy.reset()
        ref, stored = [], np.empty(0, dtype=np.int64)
        for i in range(n_steps):
            pos = np.append(stored, i)
            cap = policy.capacity(layer)
            keep = policy.evict(layer, pos, i + 1) if policy.always_evicts or len(pos) > cap else None
            stored = pos if keep is None else pos[keep]
            ref.append(stored.tolist())
        policy.reset()
        sinks, order, multi = [], [], 0
        for i in range(n_steps):
            (sinks if i < policy.n_sink else order).append(i)
            before = set(order)
            evicted = policy.step_evict(layer, order, len(sinks), i + 1)
            assert set(evicted) == before - set(order) and len(evicted) == len(before) - len(order)
            assert sinks + order == ref[i], (layer, i)
            multi += len(evicted) > 1
        if isinstance(policy, SoftDecay) and policy.gammas_[layer] > 1:
            assert multi > 0  # several keys out in one step: the slot store's compaction branch is reachable


def test_slot_path_decodes_then_chunk(tiny):
    """Soft decay and random decode through the in-place slot store; a chunk afterwards restores order."""
    ids = torch.randint(2, 64, (1, 40), generator=torch.Generator().manual_seed(7))
    probe = SoftDecay(budget=9, gammas=2.5, n_sink=2).bind(1, 40)  # layer 0 below: some steps evict several
    order, multi = [], 0
    for i in range(2, 34):
        order.append(i)
        multi += len(probe.step_evict(0, order, 2, i + 1)) > 1
    assert multi > 0  # ... so the slot store's compaction branch runs during the decoding below
    for policy in (SoftDecay(budget=[9, 14], gammas=[2.5, 1.0], n_sink=2), RandomEvict(budget=10, n_sink=2)):
        with torch.no_grad(), policy(tiny, context=40) as cache:
            steps = [tiny(ids[:, i:i + 1], past_key_values=cache).logits for i in range(34)]
            assert all(layer._slots is not None for layer in cache.layers)
            kept = [cache.positions(layer) for layer in range(2)]
            chunk = tiny(ids[:, 34:], past_key_values=cache).logits
            assert all(layer._slots is None for layer in cache.layers)
            assert all(np.all(np.diff(cache.positions(layer)) > 0) for layer in range(2))
        sim = policy.bind(2, 40).simulate(34)
        masks = []
        for layer in range(2):
            m = np.zeros((40, 40), dtype=bool)
            m[:34, :34] = sim[layer]
            m[34:, kept[layer]] = True
            m[34:, 34:] = np.tril(np.ones((6, 6), dtype=bool))
            masks.append(m)
        with torch.no_grad(), kv_backend(tiny, masks=masks):
            ref = tiny(ids, use_cache=False).logits
        assert torch.allclose(torch.cat(steps, 1), ref[:, :34], atol=2e-5, rtol=0)
        assert torch.allclose(chunk, ref[:, 34:], atol=2e-5, rtol=0), (chunk - ref[:, 34:]).abs().max()



def test_random_steady_state_eviction_is_uniform_over_non_sinks():
    """One key over budget: the evicted key is uniform over the 9 non-sink candidates, the new one included."""
    from scipy.stats import chisquare

    policy = RandomEvict(budget=11, n_sink=2, seed=5).bind(1, 11)  # capacity 10 = 2 sinks + 8 non-sinks
    order, counts = list(range(2, 10)), np.zeros(9, dtype=np.int64)
    for n in range(10, 9010):
        order.append(n)
        before = list(order)
        (evicted,) = policy.step_evict(0, order, 2, n + 1)
        counts[before.index(evicted)] += 1  # rank by age among the candidates
    assert chisquare(counts).pvalue > 1e-3 and counts.min() > 0
