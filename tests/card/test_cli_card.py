"""CLI: card / compare / recipe / fit — JSON output, plain text when piped, one-line errors, no torch."""
import json
import subprocess
import sys

import pytest

from attnscope import cli
from attnscope.arch import resolve_source


def _run(argv, capsys):
    code = cli.run(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _config_file(tmp_path, **changes):
    cfg = dict(resolve_source("pythia-70m").config)
    cfg.update(changes)
    p = tmp_path / "config.json"
    p.write_text(json.dumps(cfg))
    return str(p)


def test_card_json_is_one_object(capsys):
    code, out, err = _run(["card", "pythia-70m", "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    assert d["model"] == "EleutherAI/pythia-70m" and d["predictions"]["D_f_90"] == 1426


def test_piped_output_is_plain_text(capsys):
    code, out, _ = _run(["card", "pythia-70m"], capsys)
    assert code == 0
    assert "gamma_pade\t0.747" in out
    assert not any(ch in out for ch in "┃│┏━╇")


def test_recipe_fit_compare_json(capsys):
    code, out, _ = _run(["recipe", "X-19", "pythia-70m", "-p", "gamma=0.748", "--context", "2000", "--json"], capsys)
    assert code == 0 and json.loads(out)["value"] == 1392
    code, out, _ = _run(["fit", "pythia-70m", "--context", "4096", "--batch", "2", "--dtype", "nf4", "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["context"] == 4096 and d["GiB"]["total"] > d["GiB"]["kv_cache"] > 0
    assert {g["gpu"] for g in d["gpus"]} >= {"H100-SXM", "RTX-4090"}
    code, out, _ = _run(["compare", "pythia-70m", "pythia-70m", "--recipe", "X-21", "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["recipe"] == "X-21" and len(d["results"]) == 2
    code, out, _ = _run(["recipe", "X-3", "-p", "budget_usd=7000", "-p", "n_gpus=8"], capsys)
    assert code == 0 and "GO" in out
    code, out, _ = _run(["recipe", "--list"], capsys)
    assert code == 0 and "X-23" in out


BAD = [
    (["card", "pythia-70m", "--context", "0"], "context"),
    (["card", "pythia-70m", "--context", "-5"], "context"),
    (["fit", "pythia-70m", "--dtype", "int4"], "dtype"),
    (["fit", "pythia-70m", "--batch", "0"], "batch"),
    (["recipe", "X-99", "pythia-70m"], "recipe"),
    (["recipe", "X-19", "pythia-70m", "-p", "gamma=-5"], "gamma"),
    (["recipe", "X-19", "pythia-70m", "-p", "f=2"], "f"),
    (["recipe", "X-21", "pythia-70m", "-p", "gamma_random_obs=nan"], "gamma_random_obs"),
    (["recipe", "X-1", "pythia-70m", "-p", "payback_months"], "param"),
    (["recipe", "X-1", "pythia-70m", "-p", "gpu=Z80"], "gpu"),
    (["recipe", "X-5", "pythia-70m", "--prices", "/no/such/prices.json"], "prices"),
    (["compare", "pythia-70m"], "models"),
    (["card", "no-such-model-anywhere"], None),
]


@pytest.mark.parametrize("argv, field", BAD)
def test_bad_input_is_one_line_exit_2(argv, field, capsys):
    code, out, err = _run(argv, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("attnscope: error:"), err
    assert "Traceback" not in err
    if field:
        assert f"{field}=" in lines[0]


@pytest.mark.parametrize("change, field", [({"rotary_emb_base": -1.0}, "rotary_emb_base"),
                                           ({"max_position_embeddings": 0}, "max_position_embeddings")])
def test_bad_config_values_exit_2(tmp_path, capsys, change, field):
    code, _, err = _run(["card", _config_file(tmp_path, **change)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and field in err


def test_config_only_commands_never_import_torch():
    code = (
        "import sys, io, contextlib\n"
        "from attnscope.cli import main\n"
        "for argv in (['card','pythia-70m','--json'], ['recipe','X-2','pythia-70m','--json'],\n"
        "             ['fit','pythia-70m','--json'], ['compare','pythia-70m','pythia-70m','--json']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            main(argv)\n"
        "        except SystemExit as e:\n"
        "            assert e.code in (0, None), (argv, e.code)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers'))\n"
        "print(heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_terminal_output_is_a_rich_table(monkeypatch, capsys):
    import io

    from rich.console import Console

    from attnscope.cli import _common

    buf = io.StringIO()
    monkeypatch.setattr(_common, "stdout_console",
                        lambda: Console(file=buf, force_terminal=True, width=160, color_system=None))
    code, out, _ = _run(["recipe", "X-2", "pythia-70m"], capsys)
    assert code == 0 and out == ""
    text = buf.getvalue()
    assert "audit trail" in text and "┃" in text and "d_horizon" in text
