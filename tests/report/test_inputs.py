"""Input detection by content, and one-line errors for bad inputs."""
import json

import pytest

from attnscope.errors import ModelSourceError, RecordError
from attnscope.report.inputs import load_inputs

from .conftest import planted_atlas


def test_detects_each_kind(files, trajectory_file, tiny_folder):
    b = load_inputs([str(files["results"]), str(files["atlas"]), str(files["other"]), str(trajectory_file),
                     str(tiny_folder), str(tiny_folder / "config.json"), "pythia-70m"])
    assert [i.kind for i in b.inputs] == ["records", "records", "records", "trajectory", "model", "model", "model"]
    assert len(b.measurements) == 2 and len(b.atlases) == 1 and len(b.gamma_fields) == 1 and len(b.training) == 1
    assert len(b.trajectories) == 1 and len(b.cards) == 3
    assert b.measurements[0] == files["records"][0]  # round trip through JSONL is lossless
    assert b.cards[2].model == "EleutherAI/pythia-70m"
    assert all(i.sha256 and len(i.sha256) == 64 for i in b.inputs[:4])


def test_undefined_ci_round_trips_as_null(tmp_path):
    """An undefined CI is stored as (None, None) and a record holding it loads back unchanged."""
    rec = planted_atlas()
    d = rec.layers[0].spaces[0].dims[0]
    bad = d.model_copy(update=dict(twonn=d.twonn.model_copy(update=dict(ci95=(None, None))), participation_ratio=None))
    sp = rec.layers[0].spaces[0].model_copy(update=dict(dims=[bad, *rec.layers[0].spaces[0].dims[1:]]))
    layer = rec.layers[0].model_copy(update=dict(spaces=[sp, *rec.layers[0].spaces[1:]]))
    rec = rec.model_copy(update=dict(layers=[layer, *rec.layers[1:]]))
    p = tmp_path / "atlas.json"
    p.write_text(rec.model_dump_json())
    assert '"ci95":[null,null]' in p.read_text().replace(" ", "")
    got = load_inputs([str(p)]).atlases[0]
    assert got == rec
    assert got.layers[0].spaces[0].dims[0].twonn.ci95 == (None, None)


@pytest.mark.parametrize("content, match", [
    ('{"kind": "measurement", "model_id": "x"}\nnot json\n{"a": 1}\n', "line 2 is not JSON"),
    ('{"kind": "measurement", "model_id": "x"}\n{"kind": "atlas"}\n', "record 1: not a valid measurement record"),
    ('{"kind": "measurement", "model_id": "x"}', "the record: not a valid measurement record"),
    ('{"kind": "banana"}\n', "unknown record kind 'banana'"),
    ('{"hello": "world"}', "unknown input kind"),
    ("just some text\n", "unknown input kind"),
    ("[1, 2]", "item 0 is not a JSON object"),
    ("\n\n", "no records"),
])
def test_malformed_files(tmp_path, content, match):
    p = tmp_path / "bad.jsonl"
    p.write_text(content)
    with pytest.raises(RecordError, match=match) as info:
        load_inputs([str(p)])
    assert "\n" not in info.value.one_line() and str(p) in info.value.one_line()


def test_bad_sources():
    with pytest.raises(RecordError, match="no such file"):
        load_inputs(["missing/results.jsonl"])
    with pytest.raises(ModelSourceError):
        load_inputs(["definitely-not-a-model-xyz"])
    with pytest.raises(RecordError, match="at least one"):
        load_inputs([])


def test_trajectory_structure_checked(tmp_path):
    p = tmp_path / "traj.json"
    p.write_text(json.dumps({"schema_version": 1, "key": "k", "params": {}, "models": [{"label": "m"}]}))
    with pytest.raises(RecordError, match="lacks label/extraction.rows"):
        load_inputs([str(p)])


def test_deeply_malformed_trajectory_is_one_line(trajectory_file, tmp_path):
    from attnscope.report import render_bundle

    traj = json.loads(trajectory_file.read_text())
    row = next(iter(traj["models"][0]["extraction"]["rows"].values()))
    row.pop("values")
    p = tmp_path / "traj.json"
    p.write_text(json.dumps(traj))
    with pytest.raises(RecordError, match="trajectory JSON 1 is malformed"):
        render_bundle(load_inputs([str(p)]), panel=False)
