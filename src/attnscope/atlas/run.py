"""``atlas``: load -> prompts -> one probed forward per prompt -> estimators -> record.

Per prompt, one ordinary forward pass (SDPA on) feeds two readers: pre-hooks on
each attention block's output projection collect the head outputs z_h, and the
probe's streaming reducer folds the attention rows of the same tokens into
per-head thermodynamics and, for families with a separate value projection,
the argmax key needed by the ATLAS residual eps = z_h - v_{i*}.
"""
from __future__ import annotations

import datetime as _dt
import time
from typing import Any, Callable, Optional, Sequence

import numpy as np

from attnscope.atlas.analysis import analyse_layer
from attnscope.atlas.dimension import levina_bickel, twonn
from attnscope.atlas.thermo import row_thermo
from attnscope.errors import ProtocolError
from attnscope.io import content_key
from attnscope.records import (
    AtlasDim, AtlasHeadDims, AtlasLayer, AtlasOverlap, AtlasRecord, AtlasSpace, HeadThermo, Provenance,
)

T_MAX = 1024  # the atlas reads every row of a prompt: H*T*T floats per layer, transiently
Progress = Callable[[int, int, str], None]
DIMS_CI = "delete-a-group jackknife over prompts (t interval); the bootstrap would duplicate points"


def _space(res) -> AtlasSpace:
    ov = res.overlap
    return AtlasSpace(
        space=res.space, ambient_dim=res.ambient_dim,
        overlap=AtlasOverlap(
            mean=ov.mean, mean_cos2=ov.mean_cos2, ci95=ov.ci95, ci_method=ov.ci_method,
            null_mean=ov.null_mean, null_q025=ov.null_q025, null_q975=ov.null_q975, null_cos2=ov.null_cos2,
            excess=ov.excess, z_score=ov.z_score, verdict=ov.verdict, intra_group_mean=ov.intra_group_mean,
            inter_group_mean=ov.inter_group_mean, matrix=ov.matrix, matrix_cos2=ov.matrix_cos2,
        ),
        dims=[AtlasHeadDims(head=d.head, twonn=AtlasDim(estimate=d.twonn.estimate, ci95=d.twonn.ci95),
                            twonn_mle=AtlasDim(estimate=d.twonn_mle.estimate, ci95=d.twonn_mle.ci95),
                            levina_bickel=AtlasDim(estimate=d.levina_bickel.estimate, ci95=d.levina_bickel.ci95),
                            pca_rank_90=d.pca_rank_90, participation_ratio=d.participation_ratio) for d in res.dims],
        dims_ci_method=DIMS_CI if res.dims else None,
    )


def _thermo_rows(arr: np.ndarray, beta: float, heads: list[Optional[int]], rng) -> list[HeadThermo]:
    """arr [P, U, 5] (F, E, S, eff_keys, C) per prompt and unit -> one HeadThermo per unit, CI over prompts."""
    P = len(arr)
    boots = arr[rng.integers(0, P, (200, P))].mean(axis=1)  # [200, U, 5]
    lo, hi = np.quantile(boots, [0.025, 0.975], axis=0)
    mean = arr.mean(axis=0)
    out = []
    for u, head in enumerate(heads):
        F, E, S, K, C = (float(v) for v in mean[u])
        out.append(HeadThermo(head=head, beta=beta, F=F, E=E, S=S, eff_keys=K, C=C,
                              S_ci95=(float(lo[u, 2]), float(hi[u, 2])), C_ci95=(float(lo[u, 4]), float(hi[u, 4]))))
    return out


def _thermo_summary(per_prompt: dict[float, list[np.ndarray]], rng) -> tuple[list[HeadThermo], list[HeadThermo]]:
    """per_prompt[beta]: list over prompts of arrays [H, 5], mean over rows -> (per head, layer mean over heads)."""
    heads, layer = [], []
    for beta, items in per_prompt.items():
        arr = np.stack(items)  # [P, H, 5]
        heads += _thermo_rows(arr, beta, list(range(arr.shape[1])), rng)
        layer += _thermo_rows(arr.mean(axis=1, keepdims=True), beta, [None], rng)
    return heads, layer


def _eps_dims(eps: np.ndarray, prompt_ids: np.ndarray) -> list[AtlasHeadDims]:
    """TwoNN / Levina-Bickel of the ATLAS residual per head (no CIs: compatibility only, see notes)."""
    out = []
    for h in range(eps.shape[1]):
        X = eps[:, h, :]
        r, lb = twonn(X), levina_bickel(X)
        none = (None, None)
        out.append(AtlasHeadDims(head=h, twonn=AtlasDim(estimate=r.d_lsq, ci95=none), twonn_mle=AtlasDim(estimate=r.d_mle, ci95=none),
                                 levina_bickel=AtlasDim(estimate=lb.d, ci95=none)))
    return out


def atlas(
    source: str,
    *,
    layers: Optional[Sequence[int]] = None,
    k: int = 7,
    tokens: int = 2000,
    corpus: str = "text",
    T: Optional[int] = None,
    seed: int = 0,
    text_file: Optional[str] = None,
    betas: Sequence[float] = (0.5, 1.0, 2.0),
    n_boot: int = 200,
    null_draws: int = 200,
    dims: bool = True,
    dtype: str = "float32",
    device: str = "auto",
    revision: Optional[str] = None,
    random_init: bool = False,
    trust_remote_code: bool = False,
    progress: Optional[Progress] = None,
) -> AtlasRecord:
    """Head atlas of ``source``: per layer and space, overlap with its null and dimensions with CIs.

    Parameters
    ----------
    layers : layer indices (default: every layer). k : subspace dimension, 1 <= k <= d_head.
    tokens : token cap N per head (positions 1..T-1 of each prompt; the sink at 0 is skipped).
    T : prompt length in tokens (default min(256, context)); at most 1024.
    """
    import torch

    from attnscope.arch import parse_config
    from attnscope.measure.corpora import build_prompts
    from attnscope.probe import load_model, probe_forward
    from attnscope.probe.heads import collect_head_outputs, find_out_projections

    t0 = time.time()
    params = dict(source=source, revision=revision, layers=list(layers) if layers is not None else None, k=k,
                  tokens=tokens, corpus=corpus, T=T, seed=seed, text_file=text_file, betas=list(betas),
                  n_boot=n_boot, null_draws=null_draws, dims=dims, dtype=dtype, random_init=random_init)
    model, tokenizer, resolved = load_model(source, dtype=dtype, device=device, revision=revision,
                                            random_init=random_init, trust_remote_code=trust_remote_code, seed=seed)
    spec = parse_config(resolved.config, name=resolved.name, source=resolved.kind)
    L, H, Hkv = spec.n_layers, spec.n_heads, spec.n_kv_heads
    chosen = list(range(L)) if layers is None else list(layers)
    for layer in chosen:
        if not 0 <= layer < L:
            raise ProtocolError(f"layer out of range [0, {L - 1}]", field="layers", value=layer)
    if not 1 <= k <= spec.d_head:
        raise ProtocolError(f"k must be in [1, d_head={spec.d_head}]", field="k", value=k)
    ctx = spec.context_length or T_MAX
    T = min(256, ctx) if T is None else T
    if not 8 <= T <= min(T_MAX, ctx):
        raise ProtocolError(f"T must be in [8, {min(T_MAX, ctx)}]", field="T", value=T)
    if tokens < 100:
        raise ProtocolError("too few tokens per head for the estimators (need >= 100)", field="tokens", value=tokens)
    n_prompts = max(4, -(-tokens // (T - 1)))
    prompts = build_prompts(corpus, tokenizer=tokenizer, config=resolved.config, n_per_seed=n_prompts,
                            length=T, seeds=[seed], text_file=text_file)
    positions = torch.arange(1, T)
    projections = find_out_projections(model)
    value_mods = _value_projections(model, projections)
    dev = next(model.parameters()).device

    z_store: dict[int, list[np.ndarray]] = {}
    eps_store: dict[int, list[np.ndarray]] = {layer: [] for layer in chosen}
    thermo: dict[int, dict[float, list[np.ndarray]]] = {layer: {b: [] for b in betas} for layer in chosen}
    argmax: dict[int, np.ndarray] = {}
    values: dict[int, torch.Tensor] = {}
    chosen_set = set(chosen)

    def reducer(layer_idx: int, rows, log_z):
        if layer_idx not in chosen_set:
            return
        p = rows[0].double().cpu().numpy()  # [H, Q, T]
        lz = log_z[0].double().cpu().numpy()  # [H, Q]
        for b in betas:
            t = row_thermo(p, lz, beta=b)
            thermo[layer_idx][b].append(np.stack([t.F, t.E, t.S, t.eff_keys, t.C], -1).mean(axis=1))
        argmax[layer_idx] = p.argmax(axis=-1)  # [H, Q]

    hooks = [value_mods[layer].register_forward_hook(_keep(values, layer)) for layer in chosen if layer in value_mods]
    try:
        with collect_head_outputs(model, n_heads=H, layers=chosen, positions=positions) as store:
            for i, ids in enumerate(prompts.ids):
                probe_forward(model, torch.as_tensor(ids, device=dev), positions, reducer, logits_to_keep=1)
                for layer in chosen:
                    if layer in values:
                        v = values[layer][0].reshape(T, Hkv, -1)  # [T, Hkv, dh]
                        z = store[layer][-1]  # [T-1, H, dh]
                        group = np.arange(H) // (H // Hkv)
                        v_star = v.cpu().numpy()[argmax[layer].T, group[None, :]]  # [Q, H, dh]
                        eps_store[layer].append(z - v_star)
                if progress:
                    progress(i + 1, len(prompts.ids), "atlas")
            z_store = {layer: np.concatenate(store[layer])[:tokens] for layer in chosen}
    finally:
        for h in hooks:
            h.remove()
    prompt_ids = np.repeat(np.arange(len(prompts.ids)), T - 1)[:tokens]
    rng = np.random.default_rng(seed)
    out_layers = []
    for layer in chosen:
        W_O = projections[layer].head_weights(H)
        spaces = [_space(r) for r in analyse_layer(z_store[layer], prompt_ids, W_O=W_O, k=k, n_kv_heads=Hkv,
                                                   n_boot=n_boot, null_draws=null_draws, dims=dims, seed=seed)]
        notes = []
        if eps_store[layer]:
            eps = np.concatenate(eps_store[layer])[:tokens]
            spaces.append(AtlasSpace(space="atlas_residual", ambient_dim=eps.shape[2], dims=_eps_dims(eps, prompt_ids) if dims else []))
            notes.append("atlas_residual: eps = z_h - v at the most-attended key, for compatibility with ATLAS; "
                         "its coordinates are not basis-invariant, so no cross-head overlap is reported")
        else:
            notes.append("atlas_residual: not available for this family (no separate value projection to read)")
        per_head, per_layer = _thermo_summary(thermo[layer], rng)
        out_layers.append(AtlasLayer(layer=layer, spaces=spaces, thermo=per_head, thermo_layer=per_layer, notes=notes))

    import torch as _torch
    import transformers

    import attnscope

    prov = Provenance(attnscope=attnscope.__version__, transformers=transformers.__version__, torch=_torch.__version__,
                      device=str(dev), dtype=dtype, wall_s=round(time.time() - t0, 3), config_sha256=resolved.config_sha256,
                      source=resolved.kind, created_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                      extra={"n_prompts": len(prompts.ids), "tokens_per_head": int(len(prompt_ids)), "T": T})
    return AtlasRecord(key=content_key({**params, "config_sha256": resolved.config_sha256}), model_id=resolved.name,
                       revision=revision, arch=spec.model_dump(mode="json"), params=params, layers=out_layers,
                       warnings=list(spec.warnings) + list(prompts.warnings), provenance=prov)


def _value_projections(model, projections) -> dict[int, Any]:
    """layer -> the separate value projection (``v_proj``) of that attention block, where one exists."""
    out = {}
    for p in projections:
        parent_name = p.name.rsplit(".", 1)[0]
        parent = model.get_submodule(parent_name)
        v = getattr(parent, "v_proj", None)
        if v is not None:
            out[p.layer] = v
    return out


def _keep(store: dict, layer: int):
    def hook(module, args, output):
        store[layer] = output.detach().float()

    return hook
