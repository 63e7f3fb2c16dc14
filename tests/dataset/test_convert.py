"""Conversion: round trips, every raw file accounted for, attribution shipped, flags on partial/Kaggle/layerwise."""
from __future__ import annotations

import json
import shutil

import pytest

from attnscope.dataset.load import KINDS, load_manifest, load_panel, panel_dir, parse_record
from attnscope.errors import RecordError


@pytest.mark.parametrize("kind", list(KINDS))
def test_records_round_trip_through_jsonl(kind):
    recs = load_panel(kind)
    assert recs
    for r in recs:
        again = parse_record(json.loads(r.model_dump_json()))
        assert again == r
        assert again.model_dump_json() == r.model_dump_json()


def test_packaged_file_is_its_own_serialisation():
    for kind, name in (("measurement", "measurements.jsonl"), ("gamma_field", "gamma_fields.jsonl")):
        text = (panel_dir() / name).read_text()
        assert text == "".join(r.model_dump_json() + "\n" for r in load_panel(kind))


def test_keys_unique_and_manifest_keys_exist():
    keys = [r.key for k in KINDS for r in load_panel(k)]
    assert len(keys) == len(set(keys))
    for m in load_manifest():
        assert m["disposition"] in {"converted", "excluded", "copied"}
        assert m["reason"].strip()
        assert set(m["record_keys"]) <= set(keys)
        assert (m["disposition"] == "converted") == bool(m["record_keys"])


def test_every_raw_file_accounted_for(raw_dir):
    import hashlib

    files = {p.relative_to(raw_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in raw_dir.rglob("*") if p.is_file()}
    man = {m["path"]: m for m in load_manifest()}
    assert set(files) == set(man)
    for path, sha in files.items():
        assert man[path]["sha256"] == sha, f"{path} changed since conversion: re-run scripts/convert_tafagent.py"


def test_reconversion_matches_packaged(raw_dir):
    """Re-running the converter gives the packaged measurements (ArchSpec left out: presets evolve)."""
    from attnscope.dataset.convert import convert_tafagent

    conv = convert_tafagent(raw_dir, arch_loader=lambda hf_id: None)
    fresh = {r.key: r for r in conv.measurements}
    packaged = {r.key: r for r in load_panel()}
    assert set(fresh) == set(packaged)
    for k, r in packaged.items():
        f = fresh[k]
        assert f.measurement == r.measurement
        assert f.provenance.extra["published"] == r.provenance.extra["published"]
        drop = ("arch_missing", "theta_mismatch")
        assert [q for q in f.quality if not q.startswith(drop)] == [q for q in r.quality if not q.startswith(drop)]


def test_notice_shipped_with_attribution():
    text = (panel_dir() / "NOTICE.md").read_text()
    assert "Carles Marin" in text and "Apache-2.0" in text and "karlesmarin/tafagent" in text
    for r in load_panel()[:3]:
        assert "Apache-2.0" in r.provenance.extra["license"]


def test_corpus_labels_and_quality_flags():
    recs = load_panel()
    for r in recs:
        m = r.measurement
        if m.corpus_original_label == "mongo":
            assert m.corpus == "text"
        src = r.provenance.source
        if src.endswith("_kaggle.json"):
            assert "kaggle_rerun" in r.quality
        if src.endswith("_layerwise.json"):
            assert "layerwise" in r.quality and m.per_layer
        if r.provenance.extra["published"].get("status") == "partial":
            assert any(q.startswith("partial") for q in r.quality)
    # the published defects the issue names are flagged
    by = {(r.model_id, r.measurement.corpus, r.provenance.source.endswith(".json") and "kaggle" not in r.provenance.source): r
          for r in recs}
    assert any(q.startswith("seed_outlier:seed=7,d=2000") for q in by[("EleutherAI/pythia-160m", "text", True)].quality)
    assert any(q.startswith("fit_le_3_points") for q in by[("EleutherAI/pythia-2.8b", "text", True)].quality)
    assert any(q.startswith("marked_artefact") for q in by[("meta-llama/Llama-2-7b-hf", "text", True)].quality)


def _e4(theta=10000, seeds3=None):
    ds = [10, 20, 30, 50, 100, 200, 500, 1000, 2000]
    seeds3 = seeds3 or (1.0, 1.1, 0.9)
    ab = {str(d): {"mean_across_seeds": sum(0.5 * d ** -0.8 * s for s in seeds3) / 3, "std_across_seeds": 0.0,
                   "per_seed_means": [0.5 * d ** -0.8 * s for s in seeds3]} for d in ds}
    return {"model": "EleutherAI/pythia-70m", "theta": theta, "distances": ds, "distances_fit": ds[2:], "d_min_fit": 30,
            "n_prompts_per_distance": 10, "seeds": [42, 123, 7], "attn_by_distance": ab,
            "fit_power_law": {"gamma": 0.8, "log_A": -0.69, "R2": 1.0, "n_points": 7},
            "fit_exponential": {"lambda": 0.001, "log_A": -5.0, "R2": 0.5, "n_points": 7},
            "delta_R2_power_minus_exp": 0.5, "gamma_CI_95": {"lo": 0.79, "hi": 0.81}, "decision": "x"}


def test_converter_on_a_synthetic_folder(tmp_path):
    from attnscope.dataset.convert import convert_tafagent

    src = tmp_path / "raw"
    (src / "e4_gamma").mkdir(parents=True)
    (src / "e4_gamma" / "EleutherAI--pythia-70m_mongo.json").write_text(json.dumps(_e4()))
    shutil.copy(src / "e4_gamma" / "EleutherAI--pythia-70m_mongo.json", src / "e4_gamma" / "EleutherAI--pythia-70m_mongo.partial.json")
    (src / "odd.txt").write_text("?")
    conv = convert_tafagent(src, arch_loader=lambda hf_id: None)
    assert len(conv.measurements) == 1
    rec = conv.measurements[0]
    assert rec.measurement.corpus == "text" and rec.measurement.corpus_original_label == "mongo"
    assert rec.measurement.T_eval == 2050 and abs(rec.measurement.gamma - 0.8) < 1e-12
    assert rec.measurement.null.verdict == "decays faster than uniform"
    man = {m.path: m for m in conv.manifest}
    assert man["e4_gamma/EleutherAI--pythia-70m_mongo.partial.json"].reason.startswith("duplicate")
    assert man["odd.txt"].disposition == "excluded" and "unrecognised" in man["odd.txt"].reason
    with pytest.raises(RecordError, match="src="):
        convert_tafagent(tmp_path / "missing")


def test_conversion_script(raw_dir, tmp_path):
    """The committed script re-runs into any folder; a bad --src is one line and exit 2."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "convert_tafagent.py"
    out = tmp_path / "panel"
    proc = subprocess.run([sys.executable, str(script), "--src", str(raw_dir), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in out.iterdir()} == {p.name for p in panel_dir().iterdir() if not p.name.startswith(".")}
    assert (out / "manifest.jsonl").read_text() == (panel_dir() / "manifest.jsonl").read_text()
    proc = subprocess.run([sys.executable, str(script), "--src", str(tmp_path / "nope"), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "src=" in proc.stderr
