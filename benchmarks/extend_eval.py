"""Run extend-eval on the shipped fixtures; write docs/extend_results.md and docs/figures/kv_extend_*.png.

Each model (trained at T = 256) is evaluated at 1×, 2× and 4× T: unscaled,
linear, NTK with the theory's α (= factor), community NTK-aware α, dynamic NTK
and YaRN, plus an α grid around α_opt; prose NLL on the second half of each
window and the copy proxy at lags 0.25·L and 0.75·L; bootstrap over prompts.

Run (late, once; a few minutes per model on one core):
    python benchmarks/extend_eval.py [MODELS ...] [--prompts 8] [--json-dir /tmp/ext]
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


def plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    Ls = sorted({p["L"] for p in res["points"]})[1:]
    fig, axes = plt.subplots(1, len(Ls), figsize=(4.6 * len(Ls), 3.8), squeeze=False)
    for ax, L in zip(axes[0], Ls):
        pts = [p for p in res["points"] if p["L"] == L]
        for p in pts:
            prose = p["scores"][0]["nll"]["mean"]
            far = max((s for s in p["scores"] if s["task"] == "copy"), key=lambda s: s["lag"])["nll"]["mean"]
            grid = p["method"] == "ntk_grid"
            style = dict(marker="x" if grid else "o", color="grey" if grid else None, s=25 if grid else 40)
            ax.scatter(prose, far, **style)
            ax.annotate(p["label"].replace(",alpha=", " α=").replace(f"(s={L // res['settings']['T_train']})", ""),
                        (prose, far), fontsize=6, xytext=(2, 2), textcoords="offset points")
        verdict = next((v for v in res["pareto"] if v["L"] == L), None)
        title = f"L = {L}"
        if verdict:
            title += f": α_opt={verdict['alpha_opt']:g} {'ON' if verdict['on_front'] else 'NOT on'} the front"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("prose NLL, 2nd half of window (nats/token)")
        ax.set_ylabel("copy NLL at the longest lag")
    fig.suptitle(f"{res['model_id']}: context extension (T_train={res['settings']['T_train']}, "
                 f"{res['settings']['prompts']} prompts; lower-left is better)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def section(res: dict, fig_name: str) -> str:
    st = res["settings"]
    lines = [f"### {res['model_id']}", "",
             f"θ = {st['theta']:g}, T_train = {st['T_train']}, rotary dim {st['rotary_dim']}, {st['prompts']} prompts "
             f"per task; copy chance NLL = {res['provenance']['extra']['chance_nll_copy']:.2f}. Wall time "
             f"{res['provenance']['wall_s']:.0f} s.", "", f"![Pareto](figures/{fig_name})", ""]
    for v in res["pareto"]:
        lines.append(f"- **L = {v['L']}**: α_opt = {v['alpha_opt']:g} is "
                     f"{'on' if v['on_front'] else '**not** on'} the Pareto front"
                     + (f" (dominated by {', '.join(v['dominated_by'])}; significantly: "
                        f"{', '.join(v.get('significantly_dominated_by') or []) or 'none'})" if v["dominated_by"] else "")
                     + f"; front: {', '.join(v['front'])}.")
    lines += ["", "| variant | L | α | prose NLL (95% CI) | ΔNLL vs unscaled (95% CI) | copy NLL by lag (retrieval gain) |",
              "|---|---|---|---|---|---|"]
    for p in sorted(res["points"], key=lambda p: (p["L"], p["label"])):
        pr = p["scores"][0]
        cps = ", ".join(f"{s['lag']}: {_fmt(s['nll']['mean'], 2)} ({s['retrieval_gain']['mean']:+.2f})"
                        for s in p["scores"] if s["task"] == "copy")
        d = pr["delta_nll_vs_ref"]
        lines.append(f"| {p['label']} | {p['L']} | {_fmt(p['alpha'], 2)} | {_fmt(pr['nll']['mean'])} "
                     f"[{_fmt(pr['nll']['ci95_lo'])}, {_fmt(pr['nll']['ci95_hi'])}] | {_fmt(d['mean'])} "
                     f"[{_fmt(d['ci95_lo'])}, {_fmt(d['ci95_hi'])}] | {cps} |")
    if res["warnings"]:
        lines += ["", "Warnings: " + "; ".join(res["warnings"]) + "."]
    return "\n".join(lines) + "\n"


def _render(results: list[dict]) -> None:
    from _docs import render_results

    render_results(results, page=DOCS / "extend_results.md", figure_prefix="kv_extend_", plot=plot, section=section)


def main(argv=None) -> None:
    import torch

    from attnscope.kv.extend import extend_eval
    from attnscope.training import list_bundled_models

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*")
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--factors", default="2,4")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--json-dir", default=None)
    ap.add_argument("--render", default=None, help="only render the result JSONs found in this folder")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.render:
        files = sorted(Path(args.render).glob("extend_eval_*.json"), key=lambda f: (f.stem != "extend_eval_tiny-main", len(f.stem), f.stem))
        _render([json.loads(f.read_text()) for f in files])
        return
    models = args.models or [m for m in list_bundled_models() if m == "tiny-main"] or list_bundled_models()[:1]
    results = []
    t0 = time.time()
    for name in models:
        res = extend_eval(name, factors=[float(x) for x in args.factors.split(",")],
                          methods=["none", "linear", "ntk", "ntk_aware", "dynamic", "yarn"], prompts=args.prompts,
                          n_boot=args.n_boot)
        d = json.loads(res.model_dump_json())
        if args.json_dir:
            Path(args.json_dir).mkdir(parents=True, exist_ok=True)
            (Path(args.json_dir) / f"extend_eval_{name}.json").write_text(json.dumps(d, indent=1))
        results.append(d)
        print(f"{name}: done ({time.time() - t0:.0f} s)", file=sys.stderr)
    _render(results)


if __name__ == "__main__":
    main(sys.argv[1:])
