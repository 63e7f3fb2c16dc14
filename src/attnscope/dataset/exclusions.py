"""Which published files are not converted, and why; and the published 'artifact' notes.

Every raw file the converter does not turn into records is listed in the manifest with one of
these reasons (or as an unrecognised file), so nothing is dropped silently.
"""
from __future__ import annotations

from pathlib import Path

from attnscope.dataset.convert import load_json

EXCLUDE_REASONS = {
    "master_gamma_results.json": "curated 23-record summary of e4 fits (older thermodynamic convention); "
                                 "its gammas are the e4 records' own, re-derived there",
    "e4_gamma/pade_validation.json": "analysis summary (5 models, T_eval=2000); recomputed by the scorecard "
                                     "(gamma_pade); its 'artifact' notes are applied as quality flags",
    "e4_gamma/cdr_analysis_2026-04-18.json": "analysis summary of a superseded formula (gamma = 1 - T*sqrt2/theta)",
    "e4_gamma/expg4_gamma_validation.json": "analysis summary (8 models) of the linear formula; its 'artifact' "
                                            "notes are applied as quality flags",
    "e4_gamma/expg4_new_gamma_analysis.json": "analysis summary (duplicate of expg4_gamma_validation with other R2 "
                                              "values); its 'artifact' notes are applied as quality flags",
    "e4_gamma/content_vs_pos_decay.json": "analysis summary (short vs long range gamma split of 4 e4 curves)",
    "e4_gamma/dict6_entropy_gamma.json": "entropy-based gamma of another protocol (per-layer entropy slopes), "
                                         "not an A(d) measurement",
    "exp_gamma_field/phase_diagram_data.json": "analysis summary of e4 gammas (text/random) used by the "
                                               "induction-head rule; recomputed by the scorecard (ih_sign)",
    "exp_gamma_field/info_horizon_results.json": "analysis summary (d_horizon of e4 gammas); recomputable from theory",
    "checkpoint_eval/combined_training_dynamics.json": "derived merge of training_gamma and the EleutherAI "
                                                       "benchmarks, both converted into the trajectory record",
    "rlhf_gamma/rlhf_gamma_all_mongo.json": "base-only pair (instruct measurement pending); the base gamma "
                                            "duplicates e4_gamma/EleutherAI--pythia-70m_mongo.json",
    "rlhf_gamma/pythia-70m_mongo_rlhf.json": "base-only pair (instruct measurement pending); duplicate of "
                                             "e4_gamma/EleutherAI--pythia-70m_mongo.json",
    "rlhf_gamma/dolly-pythia-70m_mongo_rlhf.json": "base-only pair (instruct measurement pending); duplicate of "
                                                   "e4_gamma/EleutherAI--pythia-70m_mongo.json",
}
EXCLUDE_DIRS = {
    "exp_kv_decay": "KV-cache compression sweep (perplexity vs window), not an attention-decay measurement",
    "exp_b2": "KV-cache compression sweep (perplexity vs window), not an attention-decay measurement",
    "checkpoint_eval/eleutherai_evals": "raw lm-eval-harness output of EleutherAI's public evals; the headline "
                                        "scores (eleutherai_benchmarks_pythia70m.json) are in the trajectory record",
}


def artefact_notes(src: Path) -> dict[tuple[str, float], str]:
    """(file prefix, gamma_obs) -> note, for published rows whose notes say 'artifact'."""
    out = {}
    for name, key in (("e4_gamma/expg4_gamma_validation.json", "results"),
                      ("e4_gamma/expg4_new_gamma_analysis.json", "models")):
        p = src / name
        if p.exists():
            for r in load_json(p).get(key, []):
                if "artifact" in str(r.get("notes", "")):
                    out[(r["prefix"], round(float(r["gamma_obs"]), 6))] = f"{name}: notes={r['notes']!r}"
    return out
