"""Run kv-eval on the shipped fixtures; write docs/kv_results.md and docs/figures/kv_*.png.

For each model: held-out prose and the copy proxy at three lags, every policy
over a budget sweep, the γ-window at several fractions f (and random eviction at
the γ-window's per-layer budgets), bootstrap over prompts; the measured knee of
each uniform policy against the predicted budget n_sink + D_f(γ_Padé, T−1, 0.9) + 1.

Run (late, once; ~1–2 min per model on one core):
    python benchmarks/kv_eval.py [MODELS ...] [--prompts 16] [--json-dir /tmp/kv]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _fmt(x, d=3):
    return "—" if x is None else f"{x:.{d}f}"


def _ci(s, d=3):
    return f"{_fmt(s['mean'], d)} [{_fmt(s['ci95_lo'], d)}, {_fmt(s['ci95_hi'], d)}]"


def plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({(s["task"], s["lag"] or 0) for s in res["points"][0]["scores"]}, key=lambda t: (t[0] != "prose", t[1]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False)
    colors = {"sink_window": "C0", "soft_decay": "C1", "random": "C3", "gamma_window": "C2"}
    pred = res["predictions"]["predicted_budget"]
    for ax, (task, lag) in zip(axes[0], tasks):
        for pol in ("sink_window", "soft_decay", "random"):
            pts = [p for p in res["points"] if p["policy"] == pol and p["fraction"] is None]
            if not pts:
                continue
            xs, ys, lo, hi = [], [], [], []
            for p in sorted(pts, key=lambda p: p["budget_mean"]):
                s = next(s for s in p["scores"] if s["task"] == task and (s["lag"] or 0) == lag)
                xs.append(p["budget_mean"])
                ys.append(s["delta_nll_vs_ref"]["mean"])
                lo.append(s["delta_nll_vs_ref"]["mean"] - s["delta_nll_vs_ref"]["ci95_lo"])
                hi.append(s["delta_nll_vs_ref"]["ci95_hi"] - s["delta_nll_vs_ref"]["mean"])
            ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", ms=3, capsize=2, color=colors[pol], label=pol)
        for pol, marker, lab in (("gamma_window", "*", "gamma_window, γ_Padé (f sweep)"),
                                 ("gamma_window_measured", "P", "gamma_window, measured γ per layer")):
            gw = [p for p in res["points"] if p["policy"] == pol]
            if gw:
                s = [next(s for s in p["scores"] if s["task"] == task and (s["lag"] or 0) == lag) for p in gw]
                ax.scatter([p["budget_mean"] for p in gw], [x["delta_nll_vs_ref"]["mean"] for x in s],
                           marker=marker, s=70, color="C2" if marker == "*" else "C4", zorder=5, label=lab)
        ax.axvline(pred, ls="--", color="k", lw=1, label=f"predicted n_sink+D_0.9+1 = {pred:g}")
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("KV budget (keys per decoded token)")
        ax.set_ylabel("ΔNLL vs full cache (nats/token)")
        ax.set_title(f"{task}" + (f", lag {lag}" if task == "copy" else ""), fontsize=10)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{res['model_id']}: quality vs KV budget (T={res['settings']['T']}, "
                 f"{res['settings']['prompts']} prompts, 95% bootstrap CI)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def section(res: dict, fig_name: str) -> str:
    pr = res["predictions"]
    lines = [f"### {res['model_id']}", "",
             f"T = {res['settings']['T']}, {res['settings']['prompts']} prompts per task, n_sink = "
             f"{res['settings']['n_sink']}, γ = {pr['gamma_per_layer'][0]:.3f} ({pr['gamma_source']}), "
             f"D_0.9(γ, N={pr['N']}) = {pr['D_f_per_layer'][0]} → predicted budget **{pr['predicted_budget']:g}**; "
             f"copy chance NLL = ln(#tokens) = {pr['chance_nll_copy']:.2f}. Wall time "
             f"{res['provenance']['wall_s']:.0f} s.", "",
             (f"Measured γ per layer (attnscope measure, rows protocol): "
              f"{', '.join(f'{g:.3f}' for g in pr['measured']['gamma_per_layer'])} → D_0.9 per layer "
              f"{pr['measured']['D_f_per_layer']}, predicted budget {pr['measured']['predicted_budget']:g} "
              "(rows `gamma_window[measured]`)." if "measured" in pr else ""), "",
             f"![quality vs budget](figures/{fig_name})", "",
             "| policy | task | measured knee (95% CI) | predicted |", "|---|---|---|---|"]
    for k in res["knees"]:
        task = k["task"] + (f" lag {k['lag']}" if k["lag"] else "")
        meas = ("none (the smallest budget loses nothing)" if k["measured_budget"] is None else
                f"{k['measured_budget']} [{_fmt(k['measured_ci95_lo'], 0)}, {_fmt(k['measured_ci95_hi'], 0)}]"
                + ("" if k["status"] == "knee" else " (not reached below T)"))
        lines.append(f"| {k['policy']} | {task} | {meas} | {k['predicted_budget']:g} |")
    full = res["points"][0]
    gains = ", ".join(f"lag {s['lag']}: {_ci(s['retrieval_gain'], 2)}" for s in full["scores"][1:])
    lines += ["", f"Copy retrieval with the full cache (first-copy minus second-copy NLL, nats/token; > 0 = the "
              f"model retrieves the earlier copy): {gains}.", ""]
    lines += ["| config | budget | prose NLL | prose ΔNLL vs full | " +
              " | ".join(f"copy@{s['lag']} NLL (retrieval gain)" for s in res["points"][0]["scores"][1:]) + " |",
              "|---|---|---|---|" + "---|" * (len(res["points"][0]["scores"]) - 1)]
    for p in res["points"]:
        prose = p["scores"][0]
        cps = " | ".join(f"{_fmt(s['nll']['mean'], 2)} ({s['retrieval_gain']['mean']:+.2f})" for s in p["scores"][1:])
        lines.append(f"| {p['label']} | {p['budget_mean']:g} | {_ci(prose['nll'])} | "
                     f"{_ci(prose['delta_nll_vs_ref'])} | {cps} |")
    if res["warnings"]:
        lines += ["", "Warnings: " + "; ".join(res["warnings"]) + "."]
    return "\n".join(lines) + "\n"


def _add_measured(d: dict, name: str, args, *, budgets, lags) -> None:
    """Measure γ per layer (attnscope measure) and add γ-window points that use it."""
    import tempfile

    from attnscope.kv.evaluate import kv_eval
    from attnscope.measure import measure

    rec_path = Path(tempfile.mkdtemp()) / f"{name}.jsonl"
    measure(name, prompts=8, seeds=[0], device="cpu", n_boot=200, out=str(rec_path))
    res = kv_eval(name, policies=["gamma_window"], budgets=budgets, fractions=[0.5, 0.8, 0.9, 0.95],
                  prompts=args.prompts, lags=lags, n_boot=args.n_boot, gamma_record=str(rec_path))
    m = json.loads(res.model_dump_json())
    for p in m["points"]:
        if p["policy"] == "gamma_window":
            p["policy"] = "gamma_window_measured"
            p["label"] = p["label"].replace("gamma_window", "gamma_window[measured]")
            d["points"].append(p)
    d["predictions"]["measured"] = {k: m["predictions"][k] for k in ("gamma_per_layer", "D_f_per_layer",
                                                                       "predicted_budget", "gamma_source")}


def _render(results: list[dict]) -> None:
    from _docs import render_results

    render_results(results, page=DOCS / "kv_results.md", figure_prefix="kv_", plot=plot, section=section)


def main(argv=None) -> None:
    import torch

    from attnscope.arch import load_arch
    from attnscope.kv.evaluate import kv_eval
    from attnscope.training import list_bundled_models

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*")
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--budgets", default=None, help="default: 8,16,32,64,128 + T/2, 3T/4 (per model)")
    ap.add_argument("--lags", default=None, help="default: T/8, 3T/8, 3T/4 (per model)")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--json-dir", default=None, help="also write each result JSON here")
    ap.add_argument("--measured", action="store_true", help="also run the γ-window with γ measured per layer")
    ap.add_argument("--render", default=None, help="only render the result JSONs found in this folder")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.render:
        files = sorted(Path(args.render).glob("kv_eval_*.json"), key=lambda f: (f.stem != "kv_eval_tiny-main", len(f.stem), f.stem))
        _render([json.loads(f.read_text()) for f in files])
        return
    models = args.models or [m for m in list_bundled_models() if m == "tiny-main" or m.startswith("tiny-theta")]
    results = []
    t0 = time.time()
    for name in models:
        T = int(load_arch(name).T_train)
        budgets = ([int(b) for b in args.budgets.split(",")] if args.budgets else
                   sorted({8, 16, 32, 64, 128, T // 2, 3 * T // 4} - {b for b in (T // 2, 3 * T // 4) if b > T}))
        lags = [int(x) for x in args.lags.split(",")] if args.lags else [T // 8, 3 * T // 8, 3 * T // 4]
        res = kv_eval(name, policies=["sink_window", "gamma_window", "soft_decay", "random"], budgets=budgets,
                      fractions=[0.5, 0.8, 0.9, 0.95], prompts=args.prompts, lags=lags, n_boot=args.n_boot)
        d = json.loads(res.model_dump_json())
        if args.measured:
            _add_measured(d, name, args, budgets=budgets, lags=lags)
        if args.json_dir:
            Path(args.json_dir).mkdir(parents=True, exist_ok=True)
            (Path(args.json_dir) / f"kv_eval_{name}.json").write_text(json.dumps(d, indent=1))
        results.append(d)
        print(f"{name}: done ({time.time() - t0:.0f} s)", file=sys.stderr)
    _render(results)


if __name__ == "__main__":
    main(sys.argv[1:])
