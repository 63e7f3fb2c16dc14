"""kv-eval / extend-eval end to end on a tiny model folder, and their one-line errors (exit 2)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch


def _run(argv, capsys):
    from attnscope.cli import run

    code = run(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv,field", [
    (["kv-eval", "M", "--budgets", "3,16"], "budgets"),
    (["kv-eval", "M", "--budgets", "16,x"], "budgets"),
    (["kv-eval", "M", "--budgets", "16", "--policies", "lru"], "policies"),
    (["kv-eval", "M", "--budgets", "16", "--fractions", "1.5"], "fractions"),
    (["extend-eval", "M", "--factors", "1"], "factors"),
    (["extend-eval", "M", "--factors", "2,0.5"], "factors"),
    (["extend-eval", "M", "--factors", "2", "--methods", "none,rope9"], "methods"),
])
def test_bad_input_is_one_line_exit_2(tiny_folder, argv, field, capsys):
    argv = [str(tiny_folder) if a == "M" else a for a in argv]
    code, out, err = _run(argv, capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("attnscope: error: " + field)
    assert "Traceback" not in err


def test_kv_eval_end_to_end(tiny_folder, tmp_path, capsys):
    out = tmp_path / "kv.json"
    code, _, err = _run(["kv-eval", str(tiny_folder), "--budgets", "8,16,32", "--prompts", "3", "--lags", "16",
                         "--copy-span", "8", "--n-boot", "50", "--fractions", "0.5,0.9", "--out", str(out)], capsys)
    assert code == 0, err
    res = json.loads(out.read_text())
    labels = [p["label"] for p in res["points"]]
    assert labels[0] == "full" and "gamma_window@f=0.9" in labels and "random@gamma_window(f=0.5)" in labels
    assert {"sink_window@8", "soft_decay@32", "random@16"} <= set(labels)
    T = res["settings"]["T"]
    assert T == 48 and any("T_train" in w for w in res["warnings"])
    for p in res["points"]:
        assert max(p["budgets_per_layer"]) <= T
        for s in p["scores"]:
            assert s["nll"]["ci95_lo"] <= s["nll"]["mean"] <= s["nll"]["ci95_hi"]
            if s["task"] == "copy":  # paired gain = first-copy NLL - second-copy NLL
                assert s["retrieval_gain"]["mean"] == pytest.approx(s["null_first_copy_nll"]["mean"] - s["nll"]["mean"])
    assert res["predictions"]["predicted_budget"] == pytest.approx(
        np.mean([4 + D + 1 for D in res["predictions"]["D_f_per_layer"]]))
    assert {k["policy"] for k in res["knees"]} == {"sink_window", "soft_decay", "random"}

    # the full-cache row IS the plain evaluation: recompute it from the model directly
    from attnscope.kv._eval_common import prose_prompts
    from attnscope.probe.loading import load_model

    model, tok, resolved = load_model(str(tiny_folder), device="cpu")
    prose = prose_prompts(tok, resolved.config, T=T, n=3, seed=0, score_from=T // 2, warnings=[])
    with torch.no_grad():
        logits = model(torch.as_tensor(prose.ids)).logits
    nll = -torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, torch.as_tensor(prose.ids)[:, 1:, None])[..., 0]
    plain = nll.double().numpy()[:, prose.score_pos].mean(1).mean()
    full = next(s for s in res["points"][0]["scores"] if s["task"] == "prose")
    assert full["nll"]["mean"] == pytest.approx(plain, abs=1e-12, rel=0)
    assert full["delta_nll_vs_ref"]["mean"] == 0.0


def test_extend_eval_end_to_end(tiny_folder, tmp_path, capsys):
    out = tmp_path / "ext.json"
    code, _, err = _run(["extend-eval", str(tiny_folder), "--factors", "2", "--prompts", "2", "--copy-span", "8",
                         "--n-boot", "50", "--alpha-grid", "0.5,2", "--out", str(out)], capsys)
    assert code == 0, err
    res = json.loads(out.read_text())
    Ls = {(p["label"], p["L"]) for p in res["points"]}
    assert {("none", 48), ("none", 96), ("ntk(s=2)", 96), ("yarn(s=2)", 48), ("dynamic(s=2)", 96)} <= Ls
    ntk = next(p for p in res["points"] if p["label"] == "ntk(s=2)")
    assert ntk["alpha"] == pytest.approx(2.0) and ntk["rope_parameters"]["rope_theta"] == pytest.approx(200.0)
    (verdict,) = res["pareto"]
    assert verdict["L"] == 96 and verdict["on_front"] == (not verdict["dominated_by"])
    assert ("ntk(s=2)" in verdict["front"]) == verdict["on_front"]
    assert set(verdict["significantly_dominated_by"]) <= set(verdict["dominated_by"])
    dyn = next(p for p in res["points"] if p["label"] == "dynamic(s=2)" and p["L"] == 48)
    none = next(p for p in res["points"] if p["label"] == "none" and p["L"] == 48)
    assert dyn["scores"][0]["nll"]["mean"] == none["scores"][0]["nll"]["mean"]  # dynamic NTK is inert at L <= T
