"""panel.toml parsing: valid files expand to jobs; malformed ones give one line naming the key (exit 2)."""
from __future__ import annotations

from pathlib import Path

import pytest

from attnscope.errors import ConfigError
from attnscope.panel.spec import load_panel
from panel_fixtures import run_cli, write_panel

REPO = Path(__file__).resolve().parents[2]


def test_example_panel_parses():
    from attnscope.panel.jobs import expand_jobs

    spec = load_panel(REPO / "examples" / "panel.toml")
    jobs = expand_jobs(spec)
    assert len(jobs) == len(spec.models) * len(spec.protocols) * len(spec.corpora) * len(spec.precisions)
    assert spec.store_path.parent == (REPO / "examples").resolve()


def test_valid_panel_and_relative_paths(tmp_path):
    p = write_panel(tmp_path, ["./models/a", "tiny-main"], corpora=("text", "random"),
                    extra='[executor]\nkind = "ray"\ngpus_per_job = 1')
    spec = load_panel(p)
    assert spec.store_path == tmp_path / "store"
    assert spec.model_source(spec.models[0]) == str(tmp_path / "models" / "a")
    assert spec.model_source(spec.models[1]) == "tiny-main"  # a name, not a path
    assert spec.executor.kind == "ray" and spec.executor.gpus_per_job == 1.0
    assert spec.protocols[0].measure_kwargs(spec.base)["distances"] == [4, 8, 16, 32]


BAD = [
    # (replace this, with this, field named in the error, words in the message)
    ('source = "m0"', 'sorce = "m0"', "models[0].sorce", "unknown key"),
    ('store = "store"\n', "", "store", "required key is missing"),
    ("T = 48", 'T = "48"', "protocols[0].T", "integer"),
    ("T = 48", "T = 2", "protocols[0].T", ">= 3"),
    ("T = 48", "T = 48.5", "protocols[0].T", "integer"),
    ('protocol = "rows"', 'protocol = "rowz"', "protocols[0].protocol", "rows"),
    ('corpora = ["random"]', 'corpora = ["random", "txt"]', "corpora[1]", "text"),
    ("retries = 1", "retries = -1", "retries", "greater than or equal to 0"),
    ("prompts = 2", "prompts = true", "protocols[0].prompts", "integer"),
    ("seeds = [1, 2]", "seeds = [1, 1]", "protocols[0].seeds", "distinct"),
    ('source = "m1"', 'source = "m0"', "models[1].source", "same jobs"),
    ("distances = [4, 8, 16, 32]", "distances = 4", "protocols[0].distances", "list"),
    ("n_boot = 30", 'n_boot = 30\n[executor]\nkind = "slurm"', "executor.kind", "local"),
    ("queries = 8", "queries = 8\nlabel = ''", "protocols[0].label", "at least 1"),
    ('name = "test-panel"', 'name = "test-panel" x', "panel", "not valid TOML"),
    ("n_boot = 30", "n_boot = 30\n[executor]\ndevices = [0, 1.5]", "executor.devices[1]", "valid"),
    ('name = "test-panel"', 'name = "test-panel"\nbase = "/"', "base", "unknown key"),
]


@pytest.mark.parametrize("old,new,field,words", BAD, ids=[b[2] + ":" + b[3] for b in BAD])
def test_malformed_panel_names_the_key(tmp_path, capsys, old, new, field, words):
    p = write_panel(tmp_path, ["m0", "m1"])
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_panel(p)
    assert info.value.field == field
    assert words in info.value.one_line() and "\n" not in info.value.one_line()
    code, out, err = run_cli(["panel", "run", str(p)], capsys)
    lines = [l for l in err.splitlines() if l.startswith("attnscope: error:")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"attnscope: error: {field}=") and str(p) in lines[0]
    assert out == ""


def test_missing_file_and_two_protocols_same_label(tmp_path):
    with pytest.raises(ConfigError, match="no such panel file"):
        load_panel(tmp_path / "nope.toml")
    p = write_panel(tmp_path, ["m0"])
    p.write_text(p.read_text() + '\n[[protocols]]\nprotocol = "rows"\nT = 64\n')
    with pytest.raises(ConfigError) as info:
        load_panel(p)
    assert info.value.field == "protocols[1].label" and "distinct" in str(info.value)
    # a second entry with other label but the same settings: the same jobs
    p.write_text(write_panel(tmp_path, ["m0"]).read_text() + '''
[[protocols]]
protocol = "rows"
label = "again"
T = 48
distances = [4, 8, 16, 32]
d_min = 4
prompts = 2
seeds = [1, 2]
queries = 8
n_boot = 30
''')
    with pytest.raises(ConfigError) as info:
        load_panel(p)
    assert info.value.field == "protocols[1]" and "same settings as protocols[0]" in str(info.value)
