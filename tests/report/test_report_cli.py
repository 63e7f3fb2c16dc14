"""``attnscope report``: writes the file atomically; bad inputs exit 2 with one line."""
import subprocess
import sys

import pytest

from attnscope import cli


def _run(argv):
    return cli.run(argv)


def test_cli_writes_report(files, tmp_path, capsys):
    out = tmp_path / "sub" / "report.html"
    assert _run(["report", str(files["results"]), "--no-panel", "-o", str(out), "--title", "My report"]) == 0
    html = out.read_text()
    assert "<title>My report</title>" in html and '<section id="decay-0"' in html
    assert f"wrote {out}" in capsys.readouterr().out
    assert not list(out.parent.glob(".*tmp*"))  # atomic write leaves no temp file


@pytest.mark.parametrize("content, match", [
    ('{"kind": "measurement"}\n{broken\n{"x": 1}\n', "line 2 is not JSON"),
    ("plain text\n", "unknown input kind"),
])
def test_cli_bad_files_exit_2(tmp_path, capsys, content, match):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    out = tmp_path / "r.html"
    assert _run(["report", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attnscope: error:") and match in err and "\n" not in err
    assert not out.exists()


def test_cli_unknown_model_exits_2(tmp_path):
    out = tmp_path / "r.html"
    proc = subprocess.run([sys.executable, "-m", "attnscope", "report", "no-such-model-xyz", "-o", str(out)],
                          capture_output=True, text=True, env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr and not out.exists()


def test_cli_output_folder_is_refused(files, tmp_path, capsys):
    assert _run(["report", str(files["results"]), "--no-panel", "-o", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


@pytest.mark.parametrize("opened", [True, False])
def test_open_hands_the_file_to_the_browser_or_says_it_cannot(files, tmp_path, capsys, monkeypatch, opened):
    import webbrowser

    seen = []
    monkeypatch.setattr(webbrowser, "open", lambda uri: seen.append(uri) or opened)
    out = tmp_path / "report.html"
    assert _run(["report", str(files["results"]), "--no-panel", "--open", "-o", str(out)]) == 0
    assert seen == [out.resolve().as_uri()]
    err = capsys.readouterr().err
    assert ("no web browser available here" in err) is (not opened)
