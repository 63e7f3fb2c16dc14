"""``attnscope serve`` command line: help, bad options as one line (exit 2), a real server on loopback."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

from serve_helpers import fill_workdir, running_server


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "attnscope", *args], capture_output=True, text=True, timeout=120)


def test_help_names_defaults_and_examples():
    res = _cli("serve", "--help")
    assert res.returncode == 0
    assert "127.0.0.1" in res.stdout and "8000" in res.stdout and "attnscope serve --port 8080" in res.stdout


def test_missing_workdir_is_one_line_exit_2(tmp_path):
    res = _cli("serve", "--workdir", str(tmp_path / "nope"))
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "working folder does not exist" in lines[0] and "Traceback" not in res.stderr


def test_real_server_on_loopback(tmp_path):
    with running_server(fill_workdir(tmp_path / "work")) as base:
        assert base.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(base + "/api/card?model=pythia-70m", timeout=120) as r:
            card = json.loads(r.read())
        assert card["model"] == "EleutherAI/pythia-70m" and card["predictions"]["gamma_pade"] is not None
        req = urllib.request.Request(base + "/api/health", headers={"Host": "attacker.example"})
        try:
            urllib.request.urlopen(req, timeout=10)
            raise AssertionError("a foreign Host header was served")
        except urllib.error.HTTPError as exc:
            assert exc.code == 400
