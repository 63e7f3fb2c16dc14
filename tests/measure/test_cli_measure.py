"""`attnscope measure` and `attnscope schema`: a real run, resume, and bad input as one line + exit 2."""
import json
import shutil

import pytest

from attnscope import cli
from attnscope.records import MeasurementRecord

QUICK = ["--T", "64", "--distances", "10,30,50", "--prompts", "2", "--seeds", "1,2", "--n-boot", "100"]


def run(argv, capsys):
    code = cli.run(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(code, err):
    lines = [l for l in err.splitlines() if l.startswith("attnscope: error:")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_measure_writes_then_resumes(tiny_folder, tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    code, stdout, err = run(["measure", str(tiny_folder), *QUICK, "--per-head", "--out", str(out)], capsys)
    assert code == 0, err
    assert "indistinguishable from uniform" in stdout or "decays" in stdout
    assert "appended 1 record" in err
    rec = MeasurementRecord.model_validate_json(out.read_text().splitlines()[0])
    m = rec.measurement
    assert m.corpus == "text" and m.T_eval == 64 and m.distances == [10, 30, 50] and len(m.per_head) == 8
    assert m.effective["bos_prepended"] is True and m.effective["text_source"] == "stdlib_prose('validation')"
    code, _, err = run(["measure", str(tiny_folder), *QUICK, "--per-head", "--out", str(out)], capsys)
    assert code == 0 and "already measured" in err
    assert len(out.read_text().splitlines()) == 1


def test_measure_random_init_json(tiny_folder, capsys):
    code, stdout, err = run(["measure", str(tiny_folder), *QUICK, "--corpus", "random", "--random-init",
                             "--json"], capsys)
    assert code == 0, err
    rec = json.loads(stdout)
    assert rec["measurement"]["random_init"] is True and rec["measurement"]["corpus"] == "random"
    assert any("random_init" in w for w in rec["warnings"])


def test_schema_prints_json_schema(capsys):
    code, stdout, _ = run(["schema"], capsys)
    schema = json.loads(stdout)
    assert code == 0 and "measurement" in schema
    props = schema["measurement"]["properties"]
    assert {"key", "model_id", "measurement", "predictions", "provenance", "warnings"} <= set(props)
    code, stdout, _ = run(["schema", "measurement"], capsys)
    assert json.loads(stdout)["title"] == "MeasurementRecord"


@pytest.mark.parametrize("extra, match", [
    (["--T", "64", "--distances", "10,30,64"], "distance 64 >= T=64"),
    (["--corpus", "wiki"], "corpus='wiki'"),
    (["--protocol", "taf-e5"], "protocol='taf-e5'"),
    (["--dtype", "float8"], "dtype='float8'"),
    (["--distances", "10,x"], "distances='10,x'"),
    (["--threads", "0"], "threads=0"),
    (["--prompts", "1", "--seeds", "5"], "at least 2 prompts"),
])
def test_bad_arguments(tiny_folder, capsys, extra, match):
    code, _, err = run(["measure", str(tiny_folder), *extra], capsys)
    assert match in one_line_error(code, err)


def test_empty_text_file(tiny_folder, tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    code, _, err = run(["measure", str(tiny_folder), "--text-file", str(empty)], capsys)
    assert "text file is empty" in one_line_error(code, err)


def test_folder_without_weights(tiny_folder, tmp_path, capsys):
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(tiny_folder / "config.json", bare / "config.json")
    code, _, err = run(["measure", str(bare), *QUICK], capsys)
    assert "no weights" in one_line_error(code, err)


def test_model_without_tokenizer_on_text(tiny_folder, tmp_path, capsys):
    notok = tmp_path / "notok"
    notok.mkdir()
    for f in ("config.json", "model.safetensors"):
        shutil.copy(tiny_folder / f, notok / f)
    code, _, err = run(["measure", str(notok), *QUICK], capsys)
    assert "no tokenizer" in one_line_error(code, err)


def test_family_without_attention(tmp_path, capsys):
    from transformers import MambaConfig

    folder = tmp_path / "mamba"
    folder.mkdir()
    MambaConfig(hidden_size=16, num_hidden_layers=2, vocab_size=100).save_pretrained(folder)
    (folder / "model.safetensors").write_bytes(b"")
    code, _, err = run(["measure", str(folder), *QUICK], capsys)
    assert "no attention" in one_line_error(code, err)
