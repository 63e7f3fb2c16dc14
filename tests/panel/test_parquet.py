"""Parquet export (the parquet extra): one flat row per finished job, the full record kept as JSON."""
from __future__ import annotations

import json

import pytest

from attnscope.panel.run import panel_status, run_panel
from panel_fixtures import run_cli, write_panel

pq = pytest.importorskip("pyarrow.parquet")


def test_parquet_export_matches_the_store(models_dir, tmp_path, capsys):
    p = write_panel(tmp_path, [str(models_dir / "m0"), str(models_dir / "m1")], extra="parquet = true")
    res = run_panel(p)
    assert res.parquet == tmp_path / "store" / "records.parquet"
    rows = pq.read_table(res.parquet).to_pylist()
    done = {j.key: r for j, r in panel_status(p).done}
    assert {r["job_key"] for r in rows} == set(done) and len(rows) == 2
    for r in rows:
        rec = done[r["job_key"]]
        assert r["record_key"] == rec.key and r["gamma"] == rec.measurement.gamma
        assert r["gamma_uniform"] == rec.measurement.null.gamma_uniform and r["corpus"] == "random"
        assert json.loads(r["record_json"])["measurement"]["distances"] == [4, 8, 16, 32]
    code, _, err = run_cli(["panel", "export", str(p), "--out", str(tmp_path / "x.parquet")], capsys)
    assert code == 0 and pq.read_table(tmp_path / "x.parquet").num_rows == 2
