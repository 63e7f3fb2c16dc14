"""Cold start of the config-only `attnscope card` vs a bare interpreter and vs `import torch`.

Each command runs in a fresh subprocess (a cold Python process; the OS file cache
is warm after one untimed warm-up run of each command). Reports the median and
min of ``--repeats`` wall times, and the ratios in one run, as a markdown table.

    python3 benchmarks/bench_card_startup.py [--repeats 7] [--out docs/bench_card.md]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time


def wall(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.decode()[-500:]}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", default=None, help="write the markdown table to this file")
    args = ap.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    exe = shutil.which("attnscope")
    card = [exe] if exe else [sys.executable, "-m", "attnscope"]
    cmds = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "attnscope card pythia-70m --json": card + ["card", "pythia-70m", "--json"],
        'python -c "import torch"': [sys.executable, "-c", "import torch"],
    }
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for c in cmds.values():  # warm the OS file cache (not timed)
        wall(c, env)
    for _ in range(args.repeats):  # interleave so load changes hit all commands alike
        for k, c in cmds.items():
            times[k].append(wall(c, env))
    med = {k: statistics.median(v) for k, v in times.items()}
    base, card_t, torch_t = med["python -c pass"], med["attnscope card pythia-70m --json"], med['python -c "import torch"']
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared), Python {platform.python_version()}; "
        f"{args.repeats} interleaved repeats after one warm-up each; wall time of a fresh subprocess.",
        "",
        "| command | median (s) | min (s) | ratio to `python -c pass` |",
        "|---|---|---|---|",
    ]
    for k, v in times.items():
        lines.append(f"| `{k}` | {med[k]:.3f} | {min(v):.3f} | {med[k] / base:.1f}× |")
    lines += ["", f"`attnscope card` / `import torch` = {card_t / torch_t:.2f} "
              f"(card median {card_t:.2f} s; target < 1.5 s: {'met' if card_t < 1.5 else 'NOT met'})."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
        from attnscope.io import atomic_write_text

        header = ("# Benchmark: cold start of `attnscope card`\n\n"
                  "Reproduce: `python3 benchmarks/bench_card_startup.py --repeats 7 --out docs/bench_card.md`.\n"
                  "Config-only commands never import torch or transformers (a test checks `sys.modules`), "
                  "so their start-up is the interpreter, typer/rich, pydantic and the config parse.\n\n")
        atomic_write_text(args.out, header + text)


if __name__ == "__main__":
    main()
