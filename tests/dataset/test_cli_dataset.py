"""``attnscope dataset`` commands, including bad input (one line on stderr, exit 2)."""
from __future__ import annotations

import csv
import importlib.util
import json

from attnscope.dataset.load import load_panel


def test_list_and_list_all(run_cli):
    code, out, _ = run_cli("dataset", "list")
    assert code == 0 and "EleutherAI/pythia-160m" in out and "kaggle" not in out
    code, out, _ = run_cli("dataset", "list", "--all", "--json")
    obj = json.loads(out)
    assert code == 0 and len(obj["measurements"]) == len(load_panel())
    assert obj["gamma_fields"] and obj["training_trajectories"]
    excluded = [f for f in obj["files"] if f["disposition"] == "excluded"]
    assert excluded and all(f["reason"] for f in excluded)


def test_show_model_and_unknown_model(run_cli):
    code, out, _ = run_cli("dataset", "show", "pythia-160m", "--json")
    obj = json.loads(out)
    assert code == 0 and obj["model_id"] == "EleutherAI/pythia-160m" and len(obj["records"]) == 2
    assert all(r["rederivation"]["exact"] for r in obj["records"])
    code, out, err = run_cli("dataset", "show", "no-such-model")
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and err.startswith("attnscope: error: model='no-such-model'")
    code, _, err = run_cli("dataset", "show", "pythia")  # ambiguous
    assert code == 2 and "ambiguous" in err


def test_export_formats(run_cli, tmp_path):
    code, _, _ = run_cli("dataset", "export", "--format", "csv", "--out", str(tmp_path / "p.csv"))
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert code == 0 and len(rows) == len(load_panel()) and rows[0]["model_id"]
    code, _, _ = run_cli("dataset", "export", "--format", "jsonl", "--out", str(tmp_path / "p.jsonl"), "--kind", "gamma_field")
    assert code == 0 and len((tmp_path / "p.jsonl").read_text().splitlines()) == len(load_panel("gamma_field"))
    code, _, err = run_cli("dataset", "export", "--format", "xlsx", "--out", str(tmp_path / "p.x"))
    assert code == 2 and "format='xlsx'" in err
    code, _, err = run_cli("dataset", "export", "--format", "parquet", "--out", str(tmp_path / "p.parquet"))
    if importlib.util.find_spec("pyarrow") is None:
        assert code == 2 and "attnscope[parquet]" in err
    else:
        import pyarrow.parquet as pq

        assert code == 0 and pq.read_table(tmp_path / "p.parquet").num_rows == len(load_panel())


def test_score_json_and_out(run_cli, tmp_path):
    code, out, _ = run_cli("dataset", "score", "--json", "--out", str(tmp_path))
    obj = json.loads(out)
    assert code == 0
    assert {"gamma_pade", "imprint", "K", "ih_sign", "power_vs_exp", "uniform_null"} <= set(obj)
    md = (tmp_path / "scorecard.md").read_text()
    assert "γ_Padé" in md and "Re-derivation" in md
    for name in ("phase_diagram", "pade_vs_measured", "imprint"):
        assert (tmp_path / "figures" / f"scorecard_{name}.png").stat().st_size > 1000


def test_compare_user_records(run_cli, tmp_path):
    recs = [r for r in load_panel() if r.model_id == "EleutherAI/pythia-410m" and "kaggle_rerun" not in r.quality]
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(r.model_copy(update={"key": "u" + r.key[1:], "model_id": "me/my-410m"}).model_dump_json() + "\n"
                            for r in recs))
    code, out, _ = run_cli("dataset", "compare", str(path), "--json")
    obj = json.loads(out)
    assert code == 0 and obj["n_records"] == 2
    text = next(r for r in obj["records"] if r["corpus"] == "text")
    assert text["nearest_by_gamma"][0]["model_id"] == "EleutherAI/pythia-410m"
    assert text["nearest_by_gamma"][0]["difference"] == 0.0
    assert "gamma_pade" in text["rules"] and "K" in text["rules"]
    assert obj["ih_sign"][0]["model_id"] == "me/my-410m"


def test_compare_bad_input(run_cli, tmp_path):
    code, _, err = run_cli("dataset", "compare", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "no such results file" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "measurement"}\n{"x": 1}\n')
    code, _, err = run_cli("dataset", "compare", str(bad))
    assert code == 2 and err.count("\n") == 1 and "invalid measurement record" in err
    other = tmp_path / "other.jsonl"
    other.write_text(load_panel("gamma_field")[0].model_dump_json() + "\n")
    code, _, err = run_cli("dataset", "compare", str(other))
    assert code == 2 and "no measurement records" in err


def test_compare_rows_protocol_random_init_record(run_cli, tmp_path):
    base = next(r for r in load_panel() if r.model_id == "EleutherAI/pythia-70m" and r.measurement.corpus == "random")
    m = base.measurement.model_copy(update={"protocol": "rows", "gamma": 0.01, "T_eval": 256, "random_init": True})
    rec = base.model_copy(update={"key": "x" * 64, "model_id": "pythia-70m", "measurement": m})
    path = tmp_path / "u.jsonl"
    path.write_text(rec.model_dump_json() + "\n")
    code, out, _ = run_cli("dataset", "compare", str(path), "--json")
    obj = json.loads(out)
    assert code == 0 and len(obj["notes"]) == 2
    rules = obj["records"][0]["rules"]
    assert rules["gamma_pade"]["T_used"] == 256 and rules["gamma_pade"]["holds"] is False
    assert rules["imprint"]["holds"] is False


def test_unwritable_out_is_one_line(run_cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_cli("dataset", "export", "--format", "csv", "--out", str(blocker / "sub" / "p.csv"))
    assert code == 2 and err.startswith("attnscope: error: out=") and err.count("\n") == 1
    code, _, err = run_cli("dataset", "score", "--out", str(blocker))
    assert code == 2 and "out=" in err
    code, _, err = run_cli("dataset", "export", "--format", "jsonl", "--out", str(tmp_path / "x.jsonl"), "--kind", "nope")
    assert code == 2 and "kind='nope'" in err


def test_dataset_commands_never_import_torch():
    import subprocess
    import sys

    code = ("import sys\nfrom attnscope.cli import main\n"
            "try:\n    main(['dataset', 'score', '--json'])\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(str(sorted(m for m in ('torch', 'transformers') if m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stderr.strip().endswith("[]"), proc.stderr[-300:]
