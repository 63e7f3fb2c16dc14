"""Local runs: records, failures retried then reported, Ctrl-C then resume (nothing lost, nothing twice)."""
from __future__ import annotations

import json

import pytest

from attnscope.errors import RecordError
from attnscope.panel import executors
from attnscope.panel.jobs import expand_jobs, run_job
from attnscope.panel.run import panel_status, run_panel
from attnscope.panel.spec import load_panel
from attnscope.panel.store import Store
from panel_fixtures import run_cli, write_panel


def _keys_in_store(store) -> list[str]:
    lines = (store / "records.jsonl").read_text().splitlines()
    return [json.loads(l)["provenance"]["extra"]["panel"]["job_key"] for l in lines]


def test_run_retries_a_bad_model_then_reports_it(models_dir, tmp_path, capsys):
    missing = tmp_path / "no-such-model"
    p = write_panel(tmp_path, [str(models_dir / "m0"), str(missing), str(models_dir / "m1")],
                    corpora=("text", "random"), retries=2)
    jobs = expand_jobs(load_panel(p))
    events = []
    res = run_panel(p, on_event=lambda kind, job, d: events.append((kind, job.model)))
    # the bad model did not stop the panel: every good job is done, after the bad one in file order
    assert len(res.measured) == 4 and set(res.failed) == {j.key for j in jobs if j.model == str(missing)}
    assert [e for e in events if e[1] == str(missing)] == [("retry", str(missing))] * 4 + [("failed", str(missing))] * 2
    for fails in res.failed.values():
        assert [f.attempt for f in fails] == [1, 2, 3]  # 1 + retries attempts
        assert all(f.error_type == "ModelSourceError" and "no such file or folder" in f.reason for f in fails)
    # the records are measure's own records (same key and payload as a direct call), tagged with the job
    from attnscope.measure.run import measure_outcome

    st = panel_status(p)
    assert len(st.done) == 4 and len(st.failed) == 2 and not st.pending
    job, rec = st.done[0]
    direct = measure_outcome(job.source, **job.kwargs).record
    assert rec.key == direct.key and rec.measurement == direct.measurement
    assert rec.provenance.extra["panel"]["job_key"] == job.key and rec.provenance.extra["panel"]["attempt"] == 1
    # status lists the failure with its reason
    code, out, err = run_cli(["panel", "status", str(p)], capsys)
    assert code == 0
    failed_lines = [l for l in out.splitlines() if l.startswith("failed")]
    assert len(failed_lines) == 2 and all("3 attempt(s); ModelSourceError" in l and str(missing) in l
                                          for l in failed_lines)
    assert "4 done, 2 failed, 0 pending" in out
    code, out, _ = run_cli(["panel", "status", str(p), "--json"], capsys)
    st_json = json.loads(out)
    assert len(st_json["done"]) == 4 and {f["attempts"] for f in st_json["failed"]} == {3}
    # a re-run measures nothing twice, retries the failed jobs (attempts continue), exits 1 via the CLI
    code, out, err = run_cli(["panel", "run", str(p), "--retries", "0"], capsys)
    assert code == 1 and "2 job(s) failed" in err and "[attempt 4] FAILED" in err
    assert sorted(_keys_in_store(tmp_path / "store")) == sorted(j.key for j, _ in st.done)


def test_ctrl_c_then_resume_loses_and_duplicates_nothing(models_dir, tmp_path, monkeypatch):
    p = write_panel(tmp_path, [str(models_dir / "m0"), str(models_dir / "m1")], corpora=("text", "random"))
    jobs = expand_jobs(load_panel(p))
    calls = []

    def interrupted(payload):
        calls.append(payload["key"])
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C during the third job
        return run_job(payload)

    monkeypatch.setattr(executors, "run_job", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_panel(p)
    store = tmp_path / "store"
    assert _keys_in_store(store) == [j.key for j in jobs[:2]]
    st = panel_status(p)
    assert [j.key for j, _ in st.done] == [j.key for j in jobs[:2]] and not st.failed
    assert [j.key for j in st.pending] == [j.key for j in jobs[2:]]

    calls.clear()
    monkeypatch.setattr(executors, "run_job", lambda payload: (calls.append(payload["key"]), run_job(payload))[1])
    res = run_panel(p)  # the lock of the interrupted run was released
    assert calls == [j.key for j in jobs[2:]]  # only the missing jobs ran
    assert res.already_done == 2 and len(res.measured) == 2 and res.complete
    keys = _keys_in_store(store)
    assert sorted(keys) == sorted(j.key for j in jobs) and len(keys) == len(set(keys))
    calls.clear()
    assert run_panel(p).measured == [] and calls == []  # complete: nothing runs


def test_store_reads_tolerate_crash_debris_and_duplicates(models_dir, tmp_path):
    p = write_panel(tmp_path, [str(models_dir / "m0")])
    run_panel(p)
    path = tmp_path / "store" / "records.jsonl"
    line = path.read_text()
    path.write_text(line + line + line[: len(line) // 2])  # a duplicate, then a line cut by a crash
    st = panel_status(p)
    assert len(st.done) == 1 and st.duplicates == 1
    with Store(tmp_path / "store"):  # another run holds the store
        with pytest.raises(RecordError, match="another panel run"):
            run_panel(p)
    # the next append drops the partial line, never glues onto it
    Store(tmp_path / "store").append_record(st.done[0][1])
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(l)["kind"] == "measurement" for l in lines)
    st = panel_status(p)
    assert len(st.done) == 1 and st.duplicates == 2


def test_score_hands_records_to_the_scorecard(models_dir, tmp_path, capsys):
    p = write_panel(tmp_path, [str(models_dir / "m0"), str(models_dir / "m1")])
    p.write_text(p.read_text() + f'\n[[models]]\nsource = "{models_dir / "m0"}"\nrandom_init = true\n')
    code, _, err = run_cli(["panel", "score", str(p)], capsys)
    assert code == 2 and "no finished job" in err
    run_panel(p)
    code, out, err = run_cli(["panel", "score", str(p), "--json"], capsys)
    assert code == 0 and "1 random-init record(s) left out" in err
    sc = json.loads(out)
    assert sc["panel"]["n_records"] == 2 and sc["panel"]["excluded_random_init"] == 1
    assert sc["panel"]["source"].startswith("panel 'test-panel' (2 finished jobs")
    assert sc["panel"]["protocol"] == "rows" and sc["panel"]["precision"] == "float32"
    assert "gamma_pade" in sc and sc["uniform_null"]["n"] == 2  # both trained records scored
    code, out, _ = run_cli(["panel", "score", str(p), "--json", "--include-random-init"], capsys)
    assert code == 0 and json.loads(out)["panel"]["n_records"] == 3
    # several precisions: the scorecard's unit (one record per model and corpus) needs a choice
    p2 = write_panel(tmp_path, ["a"], precisions=("float32", "bfloat16"), name="p2.toml")
    code, _, err = run_cli(["panel", "score", str(p2)], capsys)
    assert code == 2 and "precision=None" in err and "float32, bfloat16" in err
    code, _, err = run_cli(["panel", "score", str(p2), "--precision", "float16"], capsys)
    assert code == 2 and "precision='float16': not in this panel" in err


def test_status_of_a_fresh_panel_and_bad_run_options(tmp_path, capsys):
    p = write_panel(tmp_path, ["a", "b"], corpora=("text", "random"))
    st = panel_status(p)  # no store yet: every job pending, nothing created
    assert len(st.pending) == 4 and not st.done and not st.failed and not (tmp_path / "store").exists()
    for argv, field in ((["--retries", "-1"], "retries"), (["--executor", "slurm"], "executor"),
                        (["--executor", "ray", "--devices", "0"], "devices"), (["--address", "auto"], "address")):
        code, out, err = run_cli(["panel", "run", str(p), *argv], capsys)
        lines = [l for l in err.splitlines() if l.startswith("attnscope: error:")]
        assert code == 2 and len(lines) == 1 and lines[0].startswith(f"attnscope: error: {field}="), err
    assert not (tmp_path / "store" / "records.jsonl").exists()
