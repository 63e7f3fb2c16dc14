"""The panel modules and the `panel` commands import without torch, transformers, ray or pyarrow."""
import subprocess
import sys


def test_panel_imports_are_light():
    code = ("import sys, attnscope.panel.run, attnscope.panel.executors, attnscope.panel.store, attnscope.cli; "
            "from attnscope.panel.spec import load_panel; from attnscope.panel.jobs import expand_jobs; "
            "expand_jobs(load_panel('examples/panel.toml')); "
            "print(sorted(m for m in ('torch', 'transformers', 'ray', 'pyarrow') if m in sys.modules))")
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo).stdout
    assert out.strip() == "[]"
