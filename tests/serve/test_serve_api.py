"""The JSON API: each endpoint returns what the CLI / library returns, and bad input gets a clear error."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from attnscope.cli import app as cli_app
from attnscope.cli._common import to_jsonable

runner = CliRunner()


def cli_json(*args: str):
    res = runner.invoke(cli_app, list(args))
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_health_and_openapi(client, workdir):
    h = client.get("/api/health").json()
    assert h["status"] == "ok" and h["workdir"]["root"] == str(workdir.resolve())
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/card", "/api/fit", "/api/recipes", "/api/recipes/{recipe_id}", "/api/compare",
                 "/api/dataset/panel", "/api/dataset/score", "/api/dataset/compare", "/api/results", "/api/report",
                 "/api/results/upload", "/api/ask", "/api/presets"):
        assert path in spec["paths"], path
    assert "multipart/form-data" in spec["paths"]["/api/results/upload"]["post"]["requestBody"]["content"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/recipes/{recipe_id}" in docs.text
    assert "cdn" not in docs.text.lower() and "swagger-ui" not in docs.text.lower()  # rendered locally


def test_card_matches_cli(client):
    api = client.get("/api/card", params={"model": "llama-3-8b", "context": 32768}).json()
    cli = cli_json("card", "llama-3-8b", "--context", "32768", "--json")
    assert api == cli
    assert api["predictions"]["T_used"] == 32768


def test_recipe_matches_cli_with_audit_trail(client):
    api = client.post("/api/recipes/X-5", json={"model": "qwen2.5-7b", "context": 8192,
                                                 "params": {"tokens_per_day": 5e8, "batch": 16}}).json()
    cli = cli_json("recipe", "X-5", "qwen2.5-7b", "--context", "8192", "-p", "tokens_per_day=5e8", "-p", "batch=16",
                   "--json")
    assert api == cli
    assert api["steps"] and all({"name", "formula", "inputs", "value"} <= set(s) for s in api["steps"])
    # the recipe id is as tolerant as the CLI's
    again = client.post("/api/recipes/x5", json={"model": "qwen2.5-7b", "context": 8192,
                                                  "params": {"tokens_per_day": "5e8", "batch": "16"}}).json()
    assert again == api


def test_recipe_without_model_and_list(client):
    res = client.post("/api/recipes/X-3", json={"params": {"budget_usd": 20000, "n_gpus": 8}}).json()
    assert res["recipe"] == "X-3" and res["model"] is None
    listed = client.get("/api/recipes").json()
    from attnscope.recipes import RECIPES

    assert [r["id"] for r in listed] == list(RECIPES)
    assert listed[1]["params"]["context"]["type"] == "int"


def test_compare_matches_cli(client):
    api = client.post("/api/compare", json={"models": ["llama-3-8b", "qwen2.5-7b", "mistral-7b"], "recipe": "X-2",
                                            "context": 32768}).json()
    cli = cli_json("compare", "llama-3-8b", "qwen2.5-7b", "mistral-7b", "--recipe", "X-2", "--context", "32768",
                   "--json")
    assert api["results"] == cli["results"] and api["models"] == cli["models"]
    cards = client.post("/api/compare", json={"models": ["pythia-70m", "pythia-160m"]}).json()
    cli_cards = cli_json("compare", "pythia-70m", "pythia-160m", "--json")
    assert cards["rows"] == cli_cards["rows"] and cards["recipes"] == cli_cards["recipes"]


def test_fit_and_presets_match_cli(client):
    api = client.get("/api/fit", params={"model": "llama-3-8b", "context": 8192, "batch": 4, "dtype": "int8"}).json()
    cli = cli_json("fit", "llama-3-8b", "--context", "8192", "--batch", "4", "--dtype", "int8", "--json")
    assert api == cli
    assert client.get("/api/presets").json() == to_jsonable(__import__("attnscope.arch").arch.list_presets())


def test_dataset_endpoints(client):
    from attnscope.dataset import load_panel, scorecard

    panel = client.get("/api/dataset/panel").json()
    recs = load_panel()
    assert panel["n"] == len(recs) and "Carles Marin" in panel["attribution"]
    by_key = {r.key: r for r in recs}
    for row in panel["rows"]:
        m = by_key[row["key"]].measurement
        assert row["gamma"] == m.gamma and row["corpus"] == m.corpus
    clean = client.get("/api/dataset/panel", params={"kind": "main", "clean": True}).json()
    assert 0 < clean["n"] < panel["n"] and all(r["clean"] and r["kind"] == "main" for r in clean["rows"])
    assert client.get("/api/dataset/score").json() == to_jsonable(scorecard())
    key = panel["rows"][0]["key"]
    assert client.get(f"/api/dataset/record/{key}").json()["key"] == key
    assert client.get("/api/dataset/record/nope").status_code == 404


def test_dataset_compare_user_records(client):
    res = client.post("/api/dataset/compare", json={"path": "results.jsonl", "k": 2}).json()
    assert res["n_records"] == 1 and res["records"][0]["model_id"] == "tiny-theta300"
    assert len(res["records"][0]["nearest_by_gamma"]) == 2


def test_results_listing_and_report(client, workdir):
    files = {f["path"] for f in client.get("/api/results").json()["files"]}
    assert {"results.jsonl", "atlas.json"} <= files
    r = client.get("/api/report", params={"path": "atlas.json", "panel": False})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Head atlas" in r.text and "<script src" not in r.text and "http://" not in r.text.split("<body")[0]
    r2 = client.get("/api/report", params={"path": str(workdir / "results.jsonl"), "panel": False})  # absolute, inside
    assert r2.status_code == 200 and "tiny-theta300" in r2.text and "Reference panel" not in r2.text


def test_ask_endpoint_runs_the_recipe(client):
    from attnscope.recipes import RECIPES

    res = client.get("/api/ask", params={"q": "Will Llama-3-8B serve 32K context?"}).json()
    assert res["call"] == 'X-2(model="llama-3-8b", context=32768)'
    assert res["result"] == to_jsonable(RECIPES["X-2"]("llama-3-8b", context=32768))
    bad = client.get("/api/ask", params={"q": "Will Qwen 7B serve 32K?"})
    assert bad.status_code == 404 and "ambiguous" in bad.json()["error"]


def test_security_headers(client):
    r = client.get("/profile")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_host_guard_when_bound_to_localhost(workdir):
    from fastapi.testclient import TestClient

    from attnscope.serve.app import LOOPBACK, create_app

    c = TestClient(create_app(workdir, allowed_hosts=list(LOOPBACK)), base_url="http://127.0.0.1:8000")
    assert c.get("/api/health").status_code == 200
    evil = c.get("/api/health", headers={"host": "evil.example:8000"})
    assert evil.status_code == 400 and "not served" in evil.json()["error"]


@pytest.mark.parametrize("header,host", [("localhost:8000", "localhost"), ("127.0.0.1", "127.0.0.1"),
                                         ("[::1]:8000", "[::1]"), ("Evil.example:80", "evil.example")])
def test_host_name(header, host):
    from attnscope.serve.app import host_name

    assert host_name(header) == host


def test_serve_extra_not_imported_by_the_cli(tmp_path):
    import subprocess
    import sys

    code = "import sys, attnscope.cli; assert 'fastapi' not in sys.modules and 'uvicorn' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("url,status,match", [
    ("/api/card?model=llama-3-8b&context=-5", 400, "context=-5: must be a positive integer"),
    ("/api/card?model=./nope/config.json", 404, "no such file in the working folder"),
    ("/api/fit?model=llama-3-8b&dtype=fp8", 400, "dtype='fp8': unknown dtype"),
    ("/api/report?path=../outside.jsonl", 403, "outside the working folder"),
    ("/api/report?path=/etc/passwd", 403, "outside the working folder"),
    ("/api/report?path=missing.jsonl", 404, "no such file"),
])
def test_bad_input_one_line_errors(client, url, status, match):
    r = client.get(url)
    assert r.status_code == status, r.text
    body = r.json()
    assert match in body["error"] and "\n" not in body["error"] and "Traceback" not in r.text


def test_unknown_model_offline_is_404(client):
    r = client.get("/api/card", params={"model": "no-such-org/no-such-model"})
    assert r.status_code == 404
    assert r.json()["field"] == "model" and "no-such-org/no-such-model" in r.json()["error"]


def test_bad_recipe_options(client):
    r = client.post("/api/recipes/X-2", json={"model": "llama-3-8b", "params": {"nope": 1}})
    assert r.status_code == 400 and "unknown option for X-2" in r.json()["error"]
    r = client.post("/api/recipes/X-99", json={"model": "llama-3-8b"})
    assert r.status_code == 400 and "unknown recipe" in r.json()["error"]
    r = client.post("/api/compare", json={"models": ["llama-3-8b"]})
    assert r.status_code == 400 and "give 2 to 6 models" in r.json()["error"]
    r = client.post("/api/recipes/X-2", json={"model": "llama-3-8b", "context": "many"})
    assert r.status_code == 422 and r.json()["field"] == "context"
