"""``attnscope atlas``: per-head output geometry and thermodynamics, with null baselines."""
from __future__ import annotations

from typing import Optional

import typer

from attnscope.cli import app

_EXAMPLES = """
Examples:

  attnscope atlas tiny-main --out atlas.json                 # every layer, k=7, 2000 tokens per head
  attnscope atlas tiny-main --layers 3 --k 4 --tokens 1000 --figures figs/
  attnscope atlas tiny-main --random-init --out atlas_null.json  # fresh weights: expect the null
"""


@app.command(epilog=_EXAMPLES)
def atlas(
    model: str = typer.Argument(..., help="Bundled model, preset, local folder or hub id (weights needed)."),
    layers: Optional[str] = typer.Option(None, help="Comma-separated layer indices (default: all)."),
    k: int = typer.Option(7, help="Subspace dimension per head (1 <= k <= d_head)."),
    tokens: int = typer.Option(2000, help="Tokens per head (cap N)."),
    corpus: str = typer.Option("text", help="text | random"),
    T: Optional[int] = typer.Option(None, "--T", help="Prompt length in tokens (default min(256, context), max 1024)."),
    text_file: Optional[str] = typer.Option(None, help="Your own text corpus (with --corpus text)."),
    seed: int = typer.Option(0, help="Seed for prompts, bootstrap and the null."),
    n_boot: int = typer.Option(200, help="Bootstrap replicates over prompts."),
    no_dims: bool = typer.Option(False, "--no-dims", help="Skip the dimension estimators."),
    dtype: str = typer.Option("float32", help="float32 | bfloat16 | float16"),
    device: str = typer.Option("auto", help="auto | cpu | cuda | mps"),
    revision: Optional[str] = typer.Option(None, help="Hub revision."),
    random_init: bool = typer.Option(False, "--random-init", help="Fresh weights of the same architecture."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code"),
    out: str = typer.Option("atlas.json", help="Output JSON (written atomically)."),
    figures: Optional[str] = typer.Option(None, help="Folder for the overlap heatmaps and dimension profile."),
) -> None:
    """Head atlas: subspace overlap between heads (head and residual-write spaces) against the
    random-subspace null, intrinsic dimensions with CIs, per-head thermodynamics."""
    from attnscope.atlas.run import atlas as run_atlas
    from attnscope.cli._common import parse_int_list, stderr_console, stdout_console
    from attnscope.io import atomic_write_text

    chosen = parse_int_list(layers, field="layers") if layers else None
    err = stderr_console()
    with err.status(f"atlas of {model}…"):
        rec = run_atlas(model, layers=chosen, k=k, tokens=tokens, corpus=corpus, T=T, seed=seed, text_file=text_file,
                        n_boot=n_boot, dims=not no_dims, dtype=dtype, device=device, revision=revision,
                        random_init=random_init, trust_remote_code=trust_remote_code)
    atomic_write_text(out, rec.model_dump_json(indent=1))
    if figures:
        from attnscope.atlas.plot import save_figures

        for p in save_figures(rec, figures):
            err.print(f"figure: {p}")
    _summary(rec, stdout_console())
    err.print(f"wrote {out}")


def _summary(rec, console) -> None:
    from rich.table import Table

    t = Table(title=f"{rec.model_id}: head overlap vs random-subspace null (k={rec.params['k']})", title_justify="left")
    for col in ("layer", "space", "overlap [95% CI]", "null mean (95% range)", "excess", "verdict", "TwoNN (mean over heads)"):
        t.add_column(col)
    for L in rec.layers:
        for s in L.spaces:
            if s.overlap is None:
                continue
            ov = s.overlap
            dims = f"{sum(d.twonn.estimate for d in s.dims) / len(s.dims):.1f}" if s.dims else "—"
            t.add_row(str(L.layer), s.space, f"{ov.mean:.3f} [{ov.ci95[0]:.3f}, {ov.ci95[1]:.3f}]",
                      f"{ov.null_mean:.3f} ({ov.null_q025:.3f}-{ov.null_q975:.3f})", f"{ov.excess:+.3f}", ov.verdict, dims)
    console.print(t)
    th = Table(title="row thermodynamics per layer (mean over heads; nats; 95% CI over prompts)", title_justify="left")
    for col in ("layer", "beta", "F = -log Z", "<E>", "S [95% CI]", "e^S (keys)", "C = Var(logit) [95% CI]"):
        th.add_column(col)
    for L in rec.layers:
        for r in L.thermo_layer:
            th.add_row(str(L.layer), f"{r.beta:g}", f"{r.F:.3f}", f"{r.E:.3f}", f"{r.S:.3f} [{r.S_ci95[0]:.3f}, {r.S_ci95[1]:.3f}]",
                       f"{r.eff_keys:.1f}", f"{r.C:.3f} [{r.C_ci95[0]:.3f}, {r.C_ci95[1]:.3f}]")
    console.print(th)
