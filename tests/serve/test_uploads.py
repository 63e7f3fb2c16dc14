"""Uploads and paths: capped, validated, kept inside the working folder; nothing is written elsewhere."""
from __future__ import annotations

import os
import tempfile

import pytest
from serve_helpers import tree

from attnscope.serve.files import PathOutsideError, Workdir

GOOD = "results_tiny.jsonl"


def _good_bytes() -> bytes:
    from serve_helpers import DATA

    return (DATA / GOOD).read_bytes()


@pytest.fixture()
def no_temp_files(monkeypatch):
    """Fail if anything creates a temp file (starlette would spool big uploads to the system temp folder)."""
    def refuse(*a, **k):
        raise AssertionError("a temporary file was created outside the working folder")

    for name in ("TemporaryFile", "NamedTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)


def test_upload_valid_file_is_kept_inside_and_viewable(client, workdir, no_temp_files):
    data = _good_bytes() * 1  # 8 KB; the API cap in these tests is 2 MiB
    r = client.post("/api/results/upload", files={"file": ("my results.jsonl", data, "application/jsonl")})
    assert r.status_code == 200, r.text
    rel = r.json()["path"]
    assert rel.startswith("uploads/") and rel.endswith("-my_results.jsonl")
    assert (workdir / rel).read_bytes() == data
    assert r.json()["inputs"][0]["kind"] == "records"
    assert rel in {f["path"] for f in client.get("/api/results").json()["files"]}
    page = client.get("/results", params={"path": rel})
    assert page.status_code == 200 and "tiny-theta300" in page.text


def test_big_upload_stays_in_memory(client, workdir, no_temp_files):
    """1.5 MiB (over starlette's 1 MiB spool limit, under the cap): accepted without any temp file."""
    line = _good_bytes().splitlines()[0]
    data = b"\n".join([line] * (int(1.5 * 2**20) // len(line) + 1)) + b"\n"
    assert 2**20 < len(data) < 2 * 2**20
    r = client.post("/api/results/upload", files={"file": ("big.jsonl", data)})
    assert r.status_code == 200, r.text[:300]


def test_oversized_upload_is_refused_and_not_written(client, workdir, no_temp_files):
    before = tree(workdir)
    data = b"{}\n" * (2 * 2**20 // 3 + 10)  # just over the 2 MiB cap of the test app
    r = client.post("/api/results/upload", files={"file": ("huge.jsonl", data)})
    assert r.status_code == 413 and "upload too large" in r.json()["error"] and "2 MiB cap" in r.json()["error"]
    page = client.post("/results/upload", files={"file": ("huge.jsonl", data)})
    assert page.status_code == 413 and "Upload refused" in page.text and "upload too large" in page.text
    assert tree(workdir) == before


def test_declared_length_over_cap_is_refused_before_reading(client, workdir):
    before = tree(workdir)
    r = client.post("/api/results/upload", content=b"x" * 10,
                    headers={"content-type": "multipart/form-data; boundary=abc", "content-length": str(50 * 2**20)})
    assert r.status_code == 413
    assert tree(workdir) == before


@pytest.mark.parametrize("name,data,match", [
    ("bad.jsonl", b'{"kind": "measurement"}\nnot json\n{"a": 1}\n', "line 2 is not JSON"),
    ("bad.jsonl", b'{"kind": "measurement", "key": "x"}\n', "not a valid measurement record"),
    ("empty.jsonl", b"", "empty file"),
    ("notes.txt", b"hello", "upload a results .jsonl"),
    ("other.json", b'{"hello": 1}', "unknown input kind"),
])
def test_malformed_upload_is_refused_and_deleted(client, workdir, name, data, match):
    before = tree(workdir)
    r = client.post("/api/results/upload", files={"file": (name, data)})
    assert r.status_code == 400 and match in r.json()["error"], r.text
    assert "\n" not in r.json()["error"]
    assert tree(workdir) == before


def test_upload_needs_multipart_with_a_file(client):
    r = client.post("/api/results/upload", content=b"{}", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "multipart/form-data" in r.json()["error"]
    r = client.post("/api/results/upload", data={"other": "x"}, files={"nofile": ("a.jsonl", b"{}")})
    assert r.status_code == 400 and "no file in the upload" in r.json()["error"]


def test_malformed_jsonl_in_the_working_folder(client, workdir):
    (workdir / "broken.jsonl").write_text('{"kind": "measurement"}\n{oops\n{"x": 1}\n')
    r = client.get("/api/report", params={"path": "broken.jsonl"})
    assert r.status_code == 400 and "line 2 is not JSON" in r.json()["error"]
    page = client.get("/results", params={"path": "broken.jsonl"})
    assert page.status_code == 400 and "line 2 is not JSON" in page.text
    (workdir / "broken.jsonl").unlink()


def test_paths_outside_are_refused(client, workdir, tmp_path):
    outside = tmp_path / "secret.jsonl"
    outside.write_bytes(_good_bytes())
    (workdir / "link.jsonl").symlink_to(outside)
    try:
        for p in ("../secret.jsonl", str(outside), "link.jsonl", "~/x.jsonl"):
            r = client.get("/api/report", params={"path": p})
            assert r.status_code == 403, (p, r.text)
            assert "outside the working folder" in r.json()["error"]
        page = client.get("/results", params={"path": str(outside)})
        assert page.status_code == 403 and "outside the working folder" in page.text
        r = client.get("/api/card", params={"model": str(outside.parent)})  # a model folder outside, too
        assert r.status_code == 403
        assert "link.jsonl" not in {f["path"] for f in client.get("/api/results").json()["files"]}
    finally:
        (workdir / "link.jsonl").unlink()


def test_workdir_resolution_unit(tmp_path):
    wd = Workdir(tmp_path)
    (tmp_path / "a").mkdir()
    assert wd.resolve("a") == (tmp_path / "a").resolve()
    assert wd.resolve("a/../a") == (tmp_path / "a").resolve()
    with pytest.raises(PathOutsideError):
        wd.resolve("a/../../x", must_exist=False)
    with pytest.raises(PathOutsideError):
        wd.resolve(os.sep, must_exist=False)
    from attnscope.errors import RecordError

    with pytest.raises(RecordError, match="does not exist"):
        Workdir(tmp_path / "nope")


def test_nothing_written_outside_the_working_folder(client, workdir):
    """Every page and endpoint exercised on the side: the folder holding the working folder is unchanged."""
    parent = workdir.parent
    before = {k: v for k, v in tree(parent).items() if not k.startswith(workdir.name + "/")}
    for url in ("/profile?model=llama-3-8b", "/dataset", "/results?path=results.jsonl", "/api/report?path=atlas.json",
                "/ask?q=Will+Llama-3-8B+serve+32K+context%3F", "/api/report?path=../x.jsonl"):
        client.get(url)
    client.post("/api/results/upload", files={"file": ("../../escape.jsonl", _good_bytes())})
    after = {k: v for k, v in tree(parent).items() if not k.startswith(workdir.name + "/")}
    assert after == before
    assert not (parent / "escape.jsonl").exists()


def test_model_paths_resolve_inside_the_working_folder_only(workdir, tmp_path, monkeypatch):
    """A model source that names a folder of the server's current folder (outside the working folder) is refused;
    presets and bundled models keep the CLI's resolution order even if the working folder has a same-named entry."""
    from attnscope.serve import service as svc

    wd = Workdir(workdir)
    (tmp_path / "cwd" / "localmodel").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "cwd")
    with pytest.raises(PathOutsideError, match="outside the working folder"):
        svc.model_source(wd, "localmodel")
    (workdir / "llama-3-8b").mkdir(exist_ok=True)
    assert svc.model_source(wd, "llama-3-8b") == "llama-3-8b"
    assert svc.model_source(wd, "tiny-theta300") == "tiny-theta300"
    assert svc.model_source(wd, "some-org/some-model") == "some-org/some-model"
    (workdir / "llama-3-8b").rmdir()
