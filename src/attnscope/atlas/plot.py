"""Atlas figures (matplotlib, Agg): overlap heatmaps with their null, dimension profile across depth."""
from __future__ import annotations

from pathlib import Path

from attnscope.records import AtlasRecord


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def overlap_heatmaps(rec: AtlasRecord, space: str = "residual"):
    """One H x H heatmap of mean principal-angle cosine per layer, titled with observed vs null."""
    plt = _plt()
    layers = [(L.layer, s) for L in rec.layers for s in L.spaces if s.space == space and s.overlap]
    n = max(1, len(layers))
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.4), squeeze=False)
    for ax, (layer, s) in zip(axes[0], layers):
        ov = s.overlap
        im = ax.imshow(ov.matrix, vmin=0, vmax=1, cmap="viridis")
        ax.set_title(f"layer {layer}: {ov.mean:.3f} [{ov.ci95[0]:.3f}, {ov.ci95[1]:.3f}]\n"
                     f"null {ov.null_mean:.3f} ({ov.null_q025:.3f}-{ov.null_q975:.3f})", fontsize=8)
        ax.set_xlabel("head")
        ax.set_ylabel("head")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="mean cos (principal angles)")
    fig.suptitle(f"{rec.model_id}: head subspace overlap, {space} space (k={rec.params['k']})", fontsize=9)
    return fig


def dimension_profile(rec: AtlasRecord, space: str = "residual"):
    """Mean TwoNN / Levina-Bickel dimension over heads per layer, with the mean jackknife CI."""
    import numpy as np

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for name, color in (("twonn", "C0"), ("levina_bickel", "C1")):
        xs, ys, lo, hi = [], [], [], []
        for L in rec.layers:
            for s in L.spaces:
                if s.space == space and s.dims:
                    est = [getattr(d, name) for d in s.dims]
                    xs.append(L.layer)
                    ys.append(np.mean([e.estimate for e in est]))
                    lo.append(np.mean([e.ci95[0] for e in est]))
                    hi.append(np.mean([e.ci95[1] for e in est]))
        if xs:
            ax.plot(xs, ys, "o-", color=color, label=name)
            ax.fill_between(xs, lo, hi, color=color, alpha=0.2)
    ax.set_xlabel("layer")
    ax.set_ylabel("intrinsic dimension (mean over heads)")
    ax.set_title(f"{rec.model_id}: dimension profile ({space} space)", fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def save_figures(rec: AtlasRecord, folder: str | Path) -> list[Path]:
    """Write the overlap heatmaps (both spaces) and the dimension profile as PNG files."""
    plt = _plt()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for space in ("head", "residual"):
        for name, fig in ((f"atlas_overlap_{space}.png", overlap_heatmaps(rec, space)),
                          (f"atlas_dims_{space}.png", dimension_profile(rec, space))):
            path = folder / name
            fig.savefig(path, dpi=110)
            plt.close(fig)
            out.append(path)
    return out
