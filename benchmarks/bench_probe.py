"""Benchmark: the attnscope probe vs a plain SDPA forward vs eager ``output_attentions``.

Run:  python3 benchmarks/bench_probe.py [--T 512,2048,4096] [--threads 1] [--out docs/bench_probe.md]

Setup (issue 3): a random-init Llama-shaped model (d_model 512, 8 layers, 8 heads,
2 KV heads, d_ff 1376, vocab 32000), CPU, float32, one sequence of T tokens:

* (a) ``plain``: an ordinary SDPA forward — the floor;
* (b) ``probe``: :func:`attnscope.probe.probe_forward` with 32 query rows and a
  streaming reducer of the kind ``measure`` uses (A at 9 distances, sink mass,
  entropy and log Z per (layer, head), folded as each layer runs);
* (c) ``eager``: eager attention with ``output_attentions=True`` (the published
  method), reading the same 32 rows from the returned T×T matrices.

All three call the causal LM with ``logits_to_keep=1`` (no T×vocab logits: the
comparison is about attention). Memory: each (case, T) runs in a fresh subprocess;
after a warm-up forward at T = 64 the peak-RSS counter is reset
(``/proc/self/clear_refs``, Linux) and one forward is measured for the peak-RSS
increment over the resident set before it, with ``MALLOC_MMAP_THRESHOLD_=131072``
(glibc's dynamic mmap threshold otherwise makes the peak depend on allocation
history: ±50 MB between identical runs). Time: one subprocess per T runs the
three cases interleaved in a rotating order (a b c, b c a, c a b, ...) so that load from other jobs on
the shared CPU hits all alike; the wall time is the median of ``repeats``.

The table also counts the forward passes each protocol needs for the published
statistical design (150 prompts × 9 distances × 3 seeds).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

N_QUERY = 32
DISTANCES = (10, 20, 30, 50, 100, 200, 500, 1000, 2000)  # published grid
DESIGN = {"prompts": 150, "distances": len(DISTANCES), "seeds": 3}
CASES = ("plain", "probe", "eager")
MODEL = dict(hidden_size=512, num_hidden_layers=8, num_attention_heads=8, num_key_value_heads=2,
             intermediate_size=1376, vocab_size=32000, max_position_embeddings=8192)


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status (Linux only)")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def _streaming_reducer(T: int, n_layers: int, n_heads: int, queries):
    """Per-(layer, head) sums of A(d), sink mass, entropy and log Z: O(L·H·|d|) state."""
    import torch

    qpos = torch.as_tensor(queries)
    dist = torch.as_tensor([d for d in DISTANCES if d < T])
    key_at = qpos[:, None] - dist[None, :]  # [Q, D] key index of each (query, distance)
    valid = key_at >= 0
    key_at = key_at.clamp(min=0)
    state = {"A": torch.zeros(n_layers, n_heads, len(dist), dtype=torch.float64),
             "sink": torch.zeros(n_layers, n_heads, dtype=torch.float64),
             "entropy": torch.zeros(n_layers, n_heads, dtype=torch.float64),
             "log_z": torch.zeros(n_layers, n_heads, dtype=torch.float64)}

    def reducer(layer: int, rows, log_z) -> None:
        r = rows[0]  # [H, Q, T]
        a = torch.gather(r, 2, key_at[None].expand(r.shape[0], -1, -1)) * valid  # [H, Q, D]
        state["A"][layer] += a.sum(1).double()
        state["sink"][layer] += r[:, :, 0].sum(1).double()
        ent = torch.special.entr(r).sum(-1)  # [H, Q]; -r ln r with one temporary
        state["entropy"][layer] += ent.sum(1).double()
        state["log_z"][layer] += log_z[0].sum(1).double()

    return reducer, state


def _setup(T: int, threads: int):
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(LlamaConfig(**MODEL), attn_implementation="sdpa").eval()
    queries = torch.linspace(T // 2, T - 1, N_QUERY).round().long().tolist()
    ids = torch.randint(0, MODEL["vocab_size"], (1, T), generator=torch.Generator().manual_seed(1))
    return model, ids, queries


def _run(model, case: str, x, q):
    import torch

    from attnscope.probe import probe_forward

    with torch.no_grad():
        if case == "plain":
            return model(x, use_cache=False, logits_to_keep=1).logits
        if case == "probe":
            reducer, _ = _streaming_reducer(x.shape[1], MODEL["num_hidden_layers"], MODEL["num_attention_heads"], q)
            return probe_forward(model, x, q, reducer, logits_to_keep=1).logits
        model.set_attn_implementation("eager")
        try:
            out = model(x, use_cache=False, logits_to_keep=1, output_attentions=True)
            rows = torch.stack([a[0][:, q] for a in out.attentions])  # what the published tool reads
        finally:
            model.set_attn_implementation("sdpa")
        return rows.sum()


def worker_memory(case: str, T: int, threads: int) -> dict:
    """Peak-RSS increment of one forward of ``case`` in this (fresh) process."""
    model, ids, queries = _setup(T, threads)
    _run(model, case, ids[:, :64], [63])  # warm-up: kernels, allocator, lazy imports
    rss_before = _status_kb("VmRSS")
    _reset_peak()
    _run(model, case, ids, queries)
    peak = _status_kb("VmHWM")
    return {"case": case, "T": T, "rss_before_MB": rss_before / 1024, "peak_increment_MB": (peak - rss_before) / 1024}


def worker_time(T: int, threads: int, repeats: int) -> dict:
    """Wall times of the three cases, interleaved with a rotating order so load drifts and
    allocator after-effects (eager frees GBs) hit all cases alike."""
    model, ids, queries = _setup(T, threads)
    for case in CASES:
        _run(model, case, ids[:, :64], [63])
    times: dict[str, list[float]] = {c: [] for c in CASES}
    for i in range(repeats):
        for case in CASES[i % 3:] + CASES[:i % 3]:
            t0 = time.perf_counter()
            _run(model, case, ids, queries)
            times[case].append(time.perf_counter() - t0)
    return {"T": T, "times": times}


def design_counts(T: int = 2048) -> dict:
    """Forward passes (and attention work) per protocol for the published design."""
    p, n_d, s = DESIGN["prompts"], DESIGN["distances"], DESIGN["seeds"]
    taf_tokens = sum(d + 50 for d in DISTANCES)  # taf-e4: one pass of length d + 50 per distance
    return {"taf_e4_passes": p * n_d * s, "rows_passes": p * s,
            "taf_e4_tokens_per_prompt": taf_tokens, "rows_tokens_per_prompt": T,
            "taf_e4_attn_pairs_per_prompt": sum((d + 50) ** 2 for d in DISTANCES) // 2,
            "rows_attn_pairs_per_prompt": T * T // 2}


def _fmt_ratio(x: float) -> str:
    return f"{x:.2f}×"


def render(results: list[dict], threads: int, note: str = "") -> str:
    by = {(r["case"], r["T"]): r for r in results}
    Ts = sorted({r["T"] for r in results})
    import torch
    import transformers

    lines = [
        "# Benchmark: attention probe vs plain SDPA vs eager output_attentions",
        "",
        f"Generated by `python3 benchmarks/bench_probe.py` on {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"{platform.machine()}, Python {platform.python_version()}, torch {torch.__version__}, "
        f"transformers {transformers.__version__}, {os.cpu_count()} logical CPUs shared with other jobs, "
        f"torch threads = {threads}. Absolute times are noisy; the ratios within one run are the claim."
        + (f" {note}" if note else ""),
        "",
        "Model: random-init Llama shape (d_model 512, 8 layers, 8 heads, 2 KV heads, d_ff 1376, vocab 32000), "
        f"CPU float32, batch 1, `logits_to_keep=1`. Probe: {N_QUERY} query rows spread over [T/2, T), "
        "streaming reducer (A at the 9 published distances, sink mass, entropy, log Z per layer and head). "
        "Eager: `attn_implementation=\"eager\"`, `output_attentions=True`, same 32 rows read from the result. "
        "Peak-RSS increment: VmHWM after one forward minus VmRSS before it, in a fresh process per cell, "
        "after a warm-up forward at T = 64, with `MALLOC_MMAP_THRESHOLD_=131072` (glibc's dynamic mmap threshold "
        "otherwise moves the peak by ±50 MB between identical runs). Wall time: the three cases run interleaved "
        "in a rotating order in one process per T (eager switched in with `set_attn_implementation`), "
        "5 rounds for T <= 2048, 3 for T = 4096.",
        "",
        "| T | (a) plain SDPA | (b) probe | (c) eager | time (b)/(a) | time (c)/(b) | "
        "peak-RSS incr. (a) | (b) | (c) | mem (b)/(a) | mem (c)/(b) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def ratio(x: dict, y: dict, stat) -> float:
        return stat(x["times"]) / stat(y["times"])

    for T in Ts:
        a, b, c = by.get(("plain", T)), by.get(("probe", T)), by.get(("eager", T))
        if not (a and b and c):
            continue
        lines.append(
            f"| {T} | {min(a['times']):.3f} s | {min(b['times']):.3f} s | {min(c['times']):.3f} s | "
            f"{_fmt_ratio(ratio(b, a, min))} ({_fmt_ratio(ratio(b, a, statistics.median))}) | "
            f"{_fmt_ratio(ratio(c, b, min))} ({_fmt_ratio(ratio(c, b, statistics.median))}) | "
            f"{a['peak_increment_MB']:.0f} MB | {b['peak_increment_MB']:.0f} MB | {c['peak_increment_MB']:.0f} MB | "
            f"{_fmt_ratio(b['peak_increment_MB'] / a['peak_increment_MB'])} | "
            f"{_fmt_ratio(c['peak_increment_MB'] / b['peak_increment_MB'])} |")
    lines += ["", "Times are the minimum over the rounds (interference from other jobs only adds time, so the "
              "minimum estimates the intrinsic cost); time ratios are min/min, with median/median in parentheses. "
              "Targets are judged on min/min; where the median ratio disagrees with the verdict it is noted."]
    verdict = []

    def check(name, value, op, target, median_value=None):
        ok = value <= target if op == "<=" else value >= target
        line = f"- {name}: {value:.2f}× (target {op} {target}×) — **{'met' if ok else 'NOT met'}**"
        if median_value is not None:
            ok_med = median_value <= target if op == "<=" else median_value >= target
            if ok_med != ok:
                line += f"; on medians {median_value:.2f}×, which {'meets' if ok_med else 'misses'} it"
        verdict.append(line)

    for T in Ts:
        a, b = by.get(("plain", T)), by.get(("probe", T))
        if a and b:
            check(f"time (b)/(a) at T={T}", ratio(b, a, min), "<=", 1.3, ratio(b, a, statistics.median))
            check(f"peak-RSS increment (b)/(a) at T={T}", b["peak_increment_MB"] / a["peak_increment_MB"], "<=", 1.2)
    if ("eager", 2048) in by and ("probe", 2048) in by:
        c, b = by[("eager", 2048)], by[("probe", 2048)]
        check("time (c)/(b) at T=2048", ratio(c, b, min), ">=", 3, ratio(c, b, statistics.median))
    if ("eager", 4096) in by and ("probe", 4096) in by:
        check("peak-RSS increment (c)/(b) at T=4096",
              by[("eager", 4096)]["peak_increment_MB"] / by[("probe", 4096)]["peak_increment_MB"], ">=", 10)
    counts = design_counts()
    lines += ["", "Targets:", "", *verdict, "",
              "## Forward passes for the published design (150 prompts × 9 distances × 3 seeds)", "",
              "| protocol | forward passes | tokens per (prompt, seed) | attention pairs per (prompt, seed) |",
              "|---|---:|---:|---:|",
              f"| taf-e4 (one pass per distance, length d + 50) | {counts['taf_e4_passes']:,} | "
              f"{counts['taf_e4_tokens_per_prompt']:,} | {counts['taf_e4_attn_pairs_per_prompt']:,} |",
              f"| rows (one pass of T = 2048 serves every distance) | {counts['rows_passes']:,} | "
              f"{counts['rows_tokens_per_prompt']:,} | {counts['rows_attn_pairs_per_prompt']:,} |",
              "",
              f"rows needs {counts['taf_e4_passes'] // counts['rows_passes']}× fewer forward passes "
              f"and {counts['taf_e4_tokens_per_prompt'] / counts['rows_tokens_per_prompt']:.1f}× fewer tokens; "
              "its attention work per prompt is "
              f"{counts['rows_attn_pairs_per_prompt'] / counts['taf_e4_attn_pairs_per_prompt']:.2f}× that of taf-e4 "
              "(one T = 2048 pass vs passes of length up to 2050), and it reads every query row, "
              "not one (query, key) pair per pass.",
              "",
              "Reading the numbers: the probe's own work per layer is a [Q, T] slice of the logits "
              "(32 × T × d_head multiply-adds per head) and one softmax over it, so its intrinsic time overhead "
              "is a few per cent at most; the spread of the (b)/(a) ratios between rounds is interference from "
              "other jobs on the 2 shared cores. Eager vs probe time is bounded on CPU by the MLP, identical in "
              "all three cases and dominant at d_model = 512; the memory ratios, measured in fresh processes, "
              "are the robust result.",
              "", "Raw per-cell times (s): " + "; ".join(
                  f"{r['case']}@{r['T']}: " + ", ".join(f"{t:.3f}" for t in r["times"]) for r in results), ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", default="512,2048,4096")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=0, help="timing rounds per T (0: 5 for T <= 2048, else 3)")
    ap.add_argument("--out", default="docs/bench_probe.md")
    ap.add_argument("--reuse", help="re-render from saved worker outputs (the JSON lines this script prints "
                    "on stderr) instead of measuring again")
    ap.add_argument("--note", default="", help="a sentence added to the header (e.g. the machine load)")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        if args.worker[0] == "time":
            T = int(args.worker[1])
            print(json.dumps(worker_time(T, args.threads, args.repeats or (5 if T <= 2048 else 3))))
        else:
            print(json.dumps(worker_memory(args.worker[1], int(args.worker[2]), args.threads)))
        return

    def sub(*worker_args: str) -> dict:
        cmd = [sys.executable, __file__, "--threads", str(args.threads), "--repeats", str(args.repeats),
               "--worker", *worker_args]
        env = dict(os.environ)
        if worker_args[0] == "mem":
            # glibc's dynamic mmap threshold makes peak RSS depend on allocation history (±50 MB
            # between identical runs here); fixed at its default static value, RSS tracks live tensors.
            env["MALLOC_MMAP_THRESHOLD_"] = "131072"
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        print(json.dumps(out), file=sys.stderr)
        return out

    results = []
    if args.reuse:
        saved = [json.loads(line) for line in Path(args.reuse).read_text().splitlines() if line.startswith("{")]
        timings = {r["T"]: r for r in saved if "times" in r}
        for mem in (r for r in saved if "case" in r):
            ts = timings[mem["T"]]["times"][mem["case"]]
            results.append({**mem, "times": ts, "wall_s": min(ts)})
    for T in [] if args.reuse else [int(x) for x in args.T.split(",")]:
        timing = sub("time", str(T))
        for case in CASES:
            mem = sub("mem", case, str(T))
            ts = timing["times"][case]
            results.append({**mem, "times": ts, "wall_s": min(ts)})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    note = args.note or (f"Rendered from saved worker outputs ({Path(args.reuse).name})." if args.reuse
                         else f"Load average at the end of the run: {load:.1f}.")
    text = render(results, args.threads, note)
    from attnscope.io import atomic_write_text

    atomic_write_text(Path(args.out), text)
    print(text)


if __name__ == "__main__":
    main()
