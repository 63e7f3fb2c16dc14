"""``attnscope trajectory``: per-layer weight-scale trajectories (depth schedules).

Heavy imports (numpy, scipy, torch for the null, matplotlib) happen inside the
command function.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from attnscope.cli import app


@app.command("trajectory")
def trajectory_cmd(
    models: list[str] = typer.Argument(..., help="Bundled model names, local folders (config.json + safetensors) or hub ids."),
    out: Path = typer.Option(..., "--out", "-o", help="Write the full result JSON here (atomic write)."),
    revision: Optional[list[str]] = typer.Option(None, "--revision", "-r",
                                                 help="Revision per MODEL (repeat), or several with one MODEL (checkpoints)."),
    null: bool = typer.Option(True, "--null/--no-null", help="Also extract a random-init model of the same architecture."),
    plots: Optional[Path] = typer.Option(None, "--plots", help="Folder for one PNG per family."),
    seed: int = typer.Option(0, "--seed", help="Seed of the null init, power-iteration start and bootstrap."),
    criterion: str = typer.Option("bic", "--criterion", help="Model selection: bic | aic | aicc (min wins)."),
    ci_method: str = typer.Option("wald", "--ci", help="Parameter CIs: wald (Jacobian) | bootstrap (residual)."),
    n_boot: int = typer.Option(200, "--n-boot", help="Bootstrap replicates with --ci bootstrap."),
    level: float = typer.Option(0.95, "--level", help="CI level."),
    power_iters: int = typer.Option(300, "--power-iters", help="Maximum power iterations per spectral norm."),
    split_sims: int = typer.Option(99, "--split-sims",
                                   help="Parametric-bootstrap curves testing a selected piecewise split (0 = off)."),
    null_max_params_m: float = typer.Option(1000.0, "--null-max-params-m",
                                            help="Refuse a random-init null above this many million parameters."),
) -> None:
    """Per-layer norm gains and projection norms, fitted with five forms and model selection.

    Examples:

      attnscope trajectory tiny-main --out traj.json --plots figs/

      attnscope trajectory ./ckpt-1000 ./ckpt-2000 --out traj.json

      attnscope trajectory EleutherAI/pythia-160m -r step1000 -r step143000 --out traj.json
    """
    from attnscope.cli._common import stderr_console, to_jsonable
    from attnscope.io import atomic_write_text
    from attnscope.trajectory import trajectory

    result = trajectory(models, revisions=revision or None, null=null, seed=seed, criterion=criterion, level=level,
                        ci_method=ci_method, n_boot=n_boot, power_max_iter=power_iters, split_sims=split_sims,
                        null_max_params_m=null_max_params_m)
    atomic_write_text(out, json.dumps(to_jsonable(result), indent=1, allow_nan=False) + "\n")
    err = stderr_console()
    for m in result.models:
        for w in m.warnings:
            err.print(f"warning: {m.label}: {w}")
    for w in result.warnings:
        err.print(f"warning: {w}")
    written = []
    if plots is not None:
        from attnscope.trajectory.plot import plot_all

        written = plot_all(result.models, plots)
    lines = []
    for m in result.models:
        lines.append(f"{m.label} ({m.family}, {m.extraction.n_layers} layers)")
        for row, by_stat in m.fits.items():
            for stat, sel in by_stat.items():
                if sel.selected is None:
                    vals = m.extraction.rows[row].values[stat]
                    shown = ", ".join(f"{v:.4g}" for v in vals[:6]) + (", ..." if len(vals) > 6 else "")
                    lines.append(f"  {row:>12} {stat:<9} no fit ({'; '.join(sel.notes) or 'too few layers'}): {shown}")
                    continue
                f = sel.fits[sel.selected]
                r2 = "n/a" if f.r2 is None else f"{f.r2:.3f}"
                split = f" split p={sel.split_test.p_value:.2f}" if sel.split_test is not None else ""
                lines.append(f"  {row:>12} {stat:<9} {sel.selected:<22} R2={r2} w_AIC={sel.akaike_weights[sel.selected]:.2f}{split}")
        for t in m.temperature:
            if not t.applicable:
                state = f"not derived: {t.note}"
            elif t.fit is None or t.fit.selected is None:
                state = "T(L) = " + ", ".join(f"{v:.4g}" for v in (t.temperature or [])[:6]) + " (no fit: too few layers)"
            else:
                state = f"selected {t.fit.selected}"
            lines.append(f"  temperature[{t.source}]: {state}")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.write(f"wrote {out}" + "".join(f", {p}" for p in written) + "\n")
