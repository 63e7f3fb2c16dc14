"""Overhead per generated token of the KV policies vs full-cache decoding, and memory saved per budget.

Per-token cost at EQUAL cache size: the full cache decodes G tokens after a
prefill of B − G/2 tokens (it holds B − G/2 … B + G/2 keys, B on average); each
policy with budget B decodes G tokens after a long prefill (4·B tokens, evicted
to B − 1), so it holds B − 1 keys throughout. Also "full via PolicyCache": the
evicting cache with nothing to evict (the pure bookkeeping + backend cost).
Streams are interleaved token by token (each configuration decodes one token
in turn) and the median per-token time is reported: on a shared machine load
spikes then hit every configuration alike. One thread.

Memory: bytes held by the cache after a T-token context, per budget (actual
tensors, ``PolicyCache.nbytes``), vs the full cache.

Run:  python benchmarks/bench_kv_overhead.py [MODEL] [--out docs/kv_results_overhead.json]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch


class _Stepper:
    """One decoding stream (a cache and its last logits); ``step()`` times one generated token."""

    def __init__(self, model, policy, prompt: torch.Tensor, context: int):
        from transformers import DynamicCache

        from attnscope.kv.cache import PolicyCache, kv_backend, n_attention_layers

        self.model, self.policy = model, policy
        self.ctx = (lambda: kv_backend(model)) if policy is not None else contextlib.nullcontext
        if policy is None:
            self.cache = DynamicCache(config=model.config)
        else:
            n = n_attention_layers(model)
            self.cache = PolicyCache(policy.bind(n, context), n)
        with torch.no_grad(), self.ctx():
            self.last = model(prompt, past_key_values=self.cache).logits[:, -1]

    def step(self) -> float:
        with torch.no_grad(), self.ctx():
            t0 = time.perf_counter()
            self.last = self.model(self.last.argmax(-1, keepdim=True), past_key_values=self.cache).logits[:, -1]
            return time.perf_counter() - t0


def main(argv=None) -> dict:
    from attnscope.kv import FullCache, RandomEvict, SinkWindow, SoftDecay
    from attnscope.probe.loading import load_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", default="tiny-main")
    ap.add_argument("--budgets", default="64,128")
    ap.add_argument("--G", type=int, default=64, help="decoded tokens per timing")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    model, _, resolved = load_model(args.model, device="cpu")
    T = int(model.config.max_position_embeddings)
    n_layers = model.config.num_hidden_layers
    g = torch.Generator().manual_seed(0)
    rows = []
    order_rng = np.random.default_rng(0)
    for B in [int(b) for b in args.budgets.split(",")]:
        G = args.G
        short = torch.randint(2, model.config.vocab_size, (1, B - G // 2), generator=g)
        long = torch.randint(2, model.config.vocab_size, (1, 4 * B), generator=g)
        ctx = 4 * B + G + 1
        configs = {
            "full (DynamicCache)": (None, short),
            "full (PolicyCache, nothing evicted)": (FullCache(), short),
            f"sink_window@{B}": (SinkWindow(budget=B, n_sink=4), long),
            f"soft_decay@{B}": (SoftDecay(budget=B, gammas=1.0, n_sink=4), long),
            f"random@{B}": (RandomEvict(budget=B, n_sink=4), long),
        }
        # interleaved at the token level: every stream decodes one token in turn, so load spikes on the
        # shared machine hit all configurations alike; the median per-token time is robust to them
        times: dict[str, list[float]] = {k: [] for k in configs}
        for _ in range(args.rounds):
            streams = {k: _Stepper(model, pol, prompt, ctx) for k, (pol, prompt) in configs.items()}
            for _ in range(G):
                for k in order_rng.permutation(list(streams)):  # random order: no position effect
                    times[k].append(streams[k].step())
        base = statistics.median(times["full (DynamicCache)"])
        for name, ts in times.items():
            med = statistics.median(ts)
            rows.append({"budget": B, "config": name, "ms_per_token": 1e3 * med, "ratio_vs_full": med / base})
    # memory after a T-token context
    mem = []
    ids = torch.randint(2, model.config.vocab_size, (1, T), generator=g)
    with torch.no_grad():
        with FullCache()(model, context=T) as cache:
            model(ids, past_key_values=cache)
            full_bytes = cache.nbytes()
        for B in [16, 32, 64, 128, T]:
            with SinkWindow(budget=min(B, T), n_sink=4)(model, context=T) as cache:
                for i in range(T):
                    model(ids[:, i:i + 1], past_key_values=cache)
                mem.append({"budget": B, "kv_bytes": cache.nbytes(), "full_kv_bytes": full_bytes,
                            "saved_fraction": 1 - cache.nbytes() / full_bytes})
    result = {"model": resolved.name, "T": T, "n_layers": n_layers, "G": args.G, "rounds": args.rounds,
              "torch_threads": 1, "timing": rows, "memory": mem}
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    for r in rows:
        print(f"B={r['budget']:>4} {r['config']:<38} {r['ms_per_token']:7.3f} ms/token  x{r['ratio_vs_full']:.3f}")
    for m in mem:
        print(f"B={m['budget']:>4} KV {m['kv_bytes']:>9} B of {m['full_kv_bytes']} (saved {m['saved_fraction']:.1%})")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
