"""attnscope.arch imports no torch/transformers; `attnscope presets` prints the table / JSON."""
from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner


def test_arch_import_does_not_import_torch_or_transformers():
    code = ("import sys, attnscope.arch as a; a.load_arch('gemma-3-4b-it'); a.list_presets(); "
            "bad = [m for m in ('torch', 'transformers', 'huggingface_hub') if m in sys.modules]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_cli_presets_plain_and_json():
    from attnscope.arch import list_presets
    from attnscope.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["presets"])
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert lines[0].split("\t")[:3] == ["name", "hf_id", "family"]
    assert len(lines) == 1 + len(list_presets())
    row = next(l.split("\t") for l in lines if l.startswith("pythia-70m\t"))
    assert row[1] == "EleutherAI/pythia-70m" and row[2] == "gpt_neox" and row[7] == "10000" and row[8] == "2048"
    res = runner.invoke(app, ["presets", "--json"])
    assert res.exit_code == 0
    items = json.loads(res.output)
    by_name = {i["name"]: i for i in items}
    assert by_name["bloom-7b1"]["rope_theta"] is None and by_name["bloom-7b1"]["position_encoding"] == "alibi"
    assert by_name["deepseek-v3"]["n_params_active_M"] > 30000
