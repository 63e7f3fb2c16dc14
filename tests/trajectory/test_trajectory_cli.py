"""`attnscope trajectory`: JSON + plots, null ratios, one-line errors (exit 2), the shipped trained fixture."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from attnscope import cli


def _run(argv, capsys):
    code = cli.run(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_end_to_end_with_null_and_plots(tmp_path, tiny_llama_dir, capsys):
    out, figs = tmp_path / "traj.json", tmp_path / "figs"
    code, stdout, err = _run(["trajectory", str(tiny_llama_dir), str(tiny_llama_dir), "--out", str(out),
                              "--plots", str(figs), "--split-sims", "9"], capsys)
    assert code == 0, err
    data = json.loads(out.read_text())
    assert data["schema_version"] == 1 and len(data["key"]) == 64
    assert list(data["families"]) == ["llama"] and len(data["families"]["llama"]) == 2 == len(data["models"])
    m = data["models"][0]
    sel = m["fits"]["input_ln"]["mean_abs"]
    # planted 0.8 * 1.1^L with 1% scatter (which form wins at 10 layers is test_fits' business)
    assert sel["selected"] == min(sel["fits"], key=lambda k: sel["fits"][k]["bic"])
    assert sel["fits"][sel["selected"]]["r2"] > 0.99
    b = next(p for p in sel["fits"]["exponential"]["params"] if p["name"] == "b")
    assert b["ci_low"] <= np.log(1.1) <= b["ci_high"] and b["ci_high"] - b["ci_low"] < 0.01
    # the null is the same architecture and seed before planting: q was scaled by (1 + 0.1 L)
    np.testing.assert_allclose(m["null"]["ratio_to_null"]["q"]["frobenius"], 1 + 0.1 * np.arange(10), rtol=1e-5)
    np.testing.assert_allclose(m["null"]["ratio_to_null"]["k"]["frobenius"], np.ones(10), rtol=1e-6)
    assert m["null"]["seed"] == 0 and "random-init" in m["null"]["source"]
    temps = {t["source"]: t for t in m["temperature"]}
    assert temps["qk_proj"]["applicable"] and not temps["qk_norm"]["applicable"]
    assert any("input_ln is not read as a temperature" in n for n in m["temperature_notes"])
    assert (figs / "trajectory_llama.png").stat().st_size > 1000
    assert "input_ln" in stdout and "exponential" in stdout
    tested = [s for row in m["fits"].values() for s in row.values() if s["selected"] == "piecewise_exponential"]
    assert all(s["split_test"]["n_sim"] == 9 for s in tested)  # every selected split is calibrated


def test_cli_revision_count_mismatch_is_one_line(tmp_path, tiny_llama_dir, capsys):
    code, _, err = _run(["trajectory", str(tiny_llama_dir), str(tiny_llama_dir), "--revision", "a", "--revision", "b",
                         "--revision", "c", "--out", str(tmp_path / "t.json"), "--no-null"], capsys)
    assert code == 2 and err.count("\n") == 1 and "revisions" in err


def test_cli_missing_tensor_exit_2_names_it(tmp_path, tiny_llama_dir, capsys):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "broken"
    shutil.copytree(tiny_llama_dir, folder)
    t = load_file(str(folder / "model.safetensors"))
    del t["model.layers.5.mlp.down_proj.weight"]
    save_file(t, str(folder / "model.safetensors"), metadata={"format": "pt"})
    code, _, err = _run(["trajectory", str(folder), "--out", str(tmp_path / "t.json"), "--no-null"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "model.layers.5.mlp.down_proj.weight" in err and "Traceback" not in err
    assert not (tmp_path / "t.json").exists()


def test_trained_fixture_tiny_main(tmp_path):
    from attnscope.archparse.sources import models_dir

    folder = models_dir() / "tiny-main"
    if not (folder / "model.safetensors").is_file():
        pytest.skip(f"trained fixture missing: {folder}/model.safetensors (committed by the TRAIN teammate)")
    from attnscope.trajectory import trajectory

    res = trajectory("tiny-main", null=True)
    m = res.models[0]
    n = m.extraction.n_layers
    assert m.kind == "bundled-model" and m.extraction.files
    for row in m.extraction.rows.values():
        assert row.layers == list(range(n))
        assert all(np.isfinite(v) for vals in row.values.values() for v in vals)
    # training moves the weights away from initialisation
    ratios = m.null.ratio_to_null["q"]["frobenius"]
    assert any(abs(r - 1.0) > 1e-3 for r in ratios)


def test_revision_on_a_local_folder_is_refused(tmp_path, tiny_llama_dir, capsys):
    code, _, err = _run(["trajectory", str(tiny_llama_dir), "--revision", "step100", "--out", str(tmp_path / "t.json"),
                         "--no-null"], capsys)
    assert code == 2 and err.count("\n") == 1 and "revision" in err


def test_hub_revisions_download_safetensors_per_revision(monkeypatch, tiny_llama_dir):
    """Hub ids: the config comes from arch.resolve_source, the weights from snapshot_download at each revision."""
    import huggingface_hub

    import attnscope.arch as arch
    from attnscope.archparse.sources import ResolvedSource
    from attnscope.trajectory import trajectory

    cfg = json.loads((tiny_llama_dir / "config.json").read_text())
    calls = []
    monkeypatch.setattr(arch, "resolve_source", lambda s, revision=None: ResolvedSource(s, "hub", cfg, None, "0" * 64, hf_id=s))
    monkeypatch.setattr(huggingface_hub, "snapshot_download",
                        lambda repo, revision=None, allow_patterns=None: calls.append((repo, revision, tuple(allow_patterns))) or str(tiny_llama_dir))
    res = trajectory("org/tiny", revisions=["step1", "step2"], null=False, split_sims=0)
    assert [m.label for m in res.models] == ["org/tiny@step1", "org/tiny@step2"]
    assert [c[:2] for c in calls] == [("org/tiny", "step1"), ("org/tiny", "step2")]
    assert all("*.safetensors" in c[2] for c in calls)
    assert res.warnings and "no random-init null" in res.warnings[0]


def test_every_bundled_trained_model_is_read():
    from attnscope.archparse.sources import models_dir
    from attnscope.trajectory import trajectory

    names = sorted(p.parent.name for p in models_dir().glob("*/model.safetensors"))
    if not names:
        pytest.skip(f"no bundled trained models under {models_dir()} yet (the TRAIN teammate ships them)")
    res = trajectory(names, null=False)
    for m in res.models:
        assert m.kind == "bundled-model"
        q = m.extraction.rows["q"]
        assert q.layers == list(range(m.extraction.n_layers)) and all(v > 0 for v in q.values["spectral"])
        unconverged = [r for r in m.extraction.rows.values() if r.kind == "proj" and not all(r.spectral_converged)]
        assert len(unconverged) == sum("power iteration did not reach" in w for w in m.warnings)


def test_oversized_null_is_refused_before_any_work(tmp_path, tiny_llama_dir, capsys, monkeypatch):
    import attnscope.trajectory.run as run

    monkeypatch.setattr(run, "extract", lambda *a, **k: pytest.fail("extraction ran before the null size check"))
    code, _, err = _run(["trajectory", str(tiny_llama_dir), "--out", str(tmp_path / "t.json"),
                         "--null-max-params-m", "0.001"], capsys)
    assert code == 2 and err.count("\n") == 1 and "--no-null" in err
