"""Panel files for the tests (imported by the tests)."""
from __future__ import annotations

from pathlib import Path

PROTOCOL = """
[[protocols]]
protocol = "rows"
T = 48
distances = [4, 8, 16, 32]
d_min = 4
prompts = 2
seeds = [1, 2]
queries = 8
n_boot = 30
"""


def write_panel(folder: Path, models: list[str], *, corpora=("random",), precisions=("float32",), retries=1,
                store="store", extra: str = "", name: str = "panel.toml") -> Path:
    """A panel of ``models`` (sources as written) with the quick rows protocol above."""
    lines = [f'name = "test-panel"', f'store = "{store}"', f"corpora = {list(corpora)!r}".replace("'", '"'),
             f"precisions = {list(precisions)!r}".replace("'", '"'), f"retries = {retries}", "torch_threads = 1",
             extra, ""]
    for m in models:
        lines += ["[[models]]", f'source = "{m}"', ""]
    path = Path(folder) / name
    path.write_text("\n".join(lines) + PROTOCOL, encoding="utf-8")
    return path


def run_cli(argv, capsys):
    """Run the CLI in-process; (exit code, stdout, stderr)."""
    from attnscope import cli

    code = cli.run(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def fake_job(payload):
    """A job function for worker-process tests: no torch; the key "crash" kills its worker process."""
    import os

    if payload["key"] == "crash":
        os._exit(3)
    return {"key": payload["key"], "ok": True, "record": None,
            "worker": {"pid": os.getpid(), "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}}
