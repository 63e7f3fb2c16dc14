"""Fixtures for the serve tests: a working folder with real results of the shipped tiny model
(``data/``: ``attnscope measure`` / ``attnscope atlas`` outputs of tiny-theta300), and a TestClient."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install 'attnscope[serve]'")
pytest.importorskip("multipart", reason="the serve extra is not installed: pip install 'attnscope[serve]'")
pytest.importorskip("httpx", reason="the TestClient needs httpx: pip install httpx")

sys.path.insert(0, str(Path(__file__).parent))
from serve_helpers import fill_workdir  # noqa: E402


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return fill_workdir(tmp_path_factory.mktemp("serve") / "work")


@pytest.fixture(scope="module")
def client(workdir):
    from fastapi.testclient import TestClient

    from attnscope.serve.app import create_app

    with TestClient(create_app(workdir, max_upload_bytes=2 * 2**20), raise_server_exceptions=True) as c:
        yield c
