"""Atlas cost on a trained fixture: collection + estimators vs the plain forward passes.

Run: python3 benchmarks/bench_atlas.py [--model tiny-main] [--tokens 2000] [--T 256] [--out docs/bench_atlas.md]

Phases, all in one process and one run (ratios, not absolute seconds, are the claim):
  (a) plain SDPA forward passes over the same prompts (the floor),
  (b) the atlas collection: the same passes with the o_proj pre-hooks and the probe's reducer
      (rows of every query position, folded into per-head thermodynamics and the eps argmax),
  (c) the estimators on the collected heads: overlap + its bootstrap over prompts + the null,
      and the dimension estimators (KD-tree TwoNN / Levina-Bickel) with their jackknife,
  (d) for scale: TwoNN by KD-tree vs by a dense O(N^2) distance matrix on one head's cloud.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def _best(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="tiny-main")
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--T", type=int, default=256)
    ap.add_argument("--k", type=int, default=7)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    import torch

    from attnscope.atlas.analysis import analyse_layer
    from attnscope.atlas.dimension import twonn
    from attnscope.atlas.thermo import row_thermo
    from attnscope.arch import parse_config
    from attnscope.measure.corpora import build_prompts
    from attnscope.probe import load_model, probe_forward
    from attnscope.probe.heads import collect_head_outputs, find_out_projections

    torch.set_num_threads(1)
    model, tok, res = load_model(args.model, dtype="float32", device="cpu")
    spec = parse_config(res.config)
    L, H = spec.n_layers, spec.n_heads
    T = args.T
    n_prompts = max(4, -(-args.tokens // (T - 1)))
    prompts = build_prompts("text", tokenizer=tok, config=res.config, n_per_seed=n_prompts, length=T, seeds=[0])
    ids = [torch.as_tensor(p) for p in prompts.ids]
    positions = torch.arange(1, T)
    layers = list(range(L))

    def plain():
        with torch.no_grad():
            for x in ids:
                model(input_ids=x[None], use_cache=False, logits_to_keep=1)

    store_out = {}

    def collect():
        def reducer(layer_idx, rows, log_z):
            p = rows[0].double().numpy()
            lz = log_z[0].double().numpy()
            row_thermo(p, lz)
            p.argmax(axis=-1)

        with collect_head_outputs(model, n_heads=H, layers=layers, positions=positions) as store:
            for x in ids:
                probe_forward(model, x, positions, reducer, logits_to_keep=1)
            store_out.update({layer: np.concatenate(store[layer])[: args.tokens] for layer in layers})

    t_plain = _best(plain, args.repeats)
    t_collect = _best(collect, args.repeats)
    prompt_ids = np.repeat(np.arange(len(ids)), T - 1)[: args.tokens]
    proj = find_out_projections(model)
    W = {layer: proj[layer].head_weights(H) for layer in layers}

    def estimators():
        for layer in layers:
            analyse_layer(store_out[layer], prompt_ids, W_O=W[layer], k=args.k, n_kv_heads=spec.n_kv_heads,
                          n_boot=200, null_draws=200, dims=True)

    t_est = _best(estimators, 1)
    X = store_out[L - 1][:, 0, :].astype(np.float64)

    def dense_twonn():
        from scipy.spatial.distance import cdist

        D = cdist(X, X)
        np.fill_diagonal(D, np.inf)
        D.sort(axis=1)
        mu = D[:, 1] / D[:, 0]
        return (len(mu) - 1) / np.log(mu).sum()

    t_kd = _best(lambda: twonn(X), args.repeats)
    t_dense = _best(dense_twonn, args.repeats)
    rows = [
        ("(a) plain SDPA forward passes", t_plain, 1.0),
        ("(b) atlas collection (hooks + probe rows + thermo + argmax)", t_collect, t_collect / t_plain),
        ("(c) estimators: overlap + bootstrap (200) + null (200), dims + jackknife", t_est, t_est / t_plain),
    ]
    lines = [
        f"# Atlas cost: `{args.model}`, {len(ids)} prompts × T={T}, N={args.tokens} tokens per head, "
        f"{L} layers × {H} heads, k={args.k}, CPU float32, 1 thread",
        "",
        "Produced by `python3 benchmarks/bench_atlas.py`; best of "
        f"{args.repeats} for (a), (b), (d); one run for (c). Ratios are to (a), measured in the same run.",
        "",
        "| phase | seconds | × plain forward |",
        "|---|---|---|",
        *[f"| {name} | {s:.3f} | {r:.2f} |" for name, s, r in rows],
        "",
        f"TwoNN on one head's cloud (N={len(X)}, d_head={X.shape[1]}): KD-tree {t_kd * 1e3:.1f} ms vs dense "
        f"O(N²) distance matrix {t_dense * 1e3:.1f} ms ({t_dense / t_kd:.1f}×; the dense matrix also needs "
        f"{len(X) ** 2 * 8 / 2**20:.0f} MiB, growing as N²).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        from attnscope.io import atomic_write_text

        atomic_write_text(args.out, text)


if __name__ == "__main__":
    main()
