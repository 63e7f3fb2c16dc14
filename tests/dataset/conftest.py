"""Fixtures for the dataset tests: the packaged panel, the raw published folder (when present), a CLI runner."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RAW = REPO.parent / "shared" / "data" / "tafagent"


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    if not RAW.is_dir():
        pytest.skip("the published raw data (../shared/data/tafagent) is not present")
    return RAW


@pytest.fixture(scope="session")
def packaged_json() -> list[dict]:
    """The packaged measurement records as plain JSON (for independent re-implementations)."""
    from attnscope.dataset.load import panel_dir

    return [json.loads(line) for line in (panel_dir() / "measurements.jsonl").read_text().splitlines() if line]


@pytest.fixture(scope="session")
def scorecard_json() -> dict:
    from attnscope.cli._common import to_jsonable
    from attnscope.dataset.score_more import scorecard

    return to_jsonable(scorecard())


@pytest.fixture
def run_cli(capsys):
    """Run ``attnscope ARGS``; returns (exit code, stdout, stderr)."""
    from attnscope import cli

    def run(*args: str):
        code = cli.run(list(args))
        cap = capsys.readouterr()
        return code, cap.out, cap.err

    return run
