"""``attnscope train-tiny`` rejects bad options with one line and exit code 2."""
from __future__ import annotations

import pytest

from attnscope.cli import main


@pytest.mark.parametrize("args,field", [
    (["--theta", "0"], "theta"), (["--theta", "-3"], "theta"), (["--context", "0"], "context"),
    (["--steps", "0"], "steps"), (["--steps", "-1"], "steps"), (["--vocab", "10"], "vocab"),
    (["--threads", "0"], "threads"),
])
def test_bad_options_exit_2_one_line(tmp_path, capsys, monkeypatch, args, field):
    monkeypatch.delenv("ATTNSCOPE_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exc:
        main(["train-tiny", "--out", str(tmp_path / "m"), *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"attnscope: error: {field}="), err
    assert "Traceback" not in err
    assert not (tmp_path / "m").exists()
