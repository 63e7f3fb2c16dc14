"""Executors: dispatch over device processes, a crashed worker fails its job and is replaced, transient failures."""
from __future__ import annotations

import os

from attnscope.panel.executors import LocalExecutor
from attnscope.panel.jobs import expand_jobs
from attnscope.panel.run import panel_status, run_panel
from attnscope.panel.spec import load_panel
from panel_fixtures import fake_job, write_panel


def test_device_processes_dispatch_and_replace_a_crashed_worker():
    ex = LocalExecutor(["a", "b"], job_fn=fake_job)
    try:
        results = {r["key"]: r for r in ex.run([{"key": k} for k in ("crash", "k1", "k2", "k3")])}
        # which device runs which ok job depends on scheduling; the replacement worker of "a" must run jobs
        after = list(ex.run([{"key": "k4"}, {"key": "k5"}]))
        replacement = ex._pool("a").submit(fake_job, {"key": "k6"}).result(timeout=120)
    finally:
        ex.close()
    assert set(results) == {"crash", "k1", "k2", "k3"}
    crash = results.pop("crash")
    assert not crash["ok"] and crash["error_type"] == "BrokenProcessPool" and "device a" in crash["reason"]
    assert all(r["ok"] for r in [*results.values(), *after])
    workers = [r["worker"] for r in [*results.values(), *after]]
    assert {w["cuda_visible_devices"] for w in workers} <= {"a", "b"}
    assert replacement["ok"] and replacement["worker"]["cuda_visible_devices"] == "a"
    assert all(w["pid"] != os.getpid() for w in [*workers, replacement["worker"]])


def test_a_transient_failure_is_retried_and_the_job_completes(models_dir, tmp_path, monkeypatch):
    import attnscope.measure.run as mrun

    p = write_panel(tmp_path, [str(models_dir / "m0"), str(models_dir / "m1")], retries=1)
    jobs = expand_jobs(load_panel(p))
    real = mrun.measure_outcome
    seen = []

    def flaky(source, **kw):
        seen.append(source)
        if source == jobs[0].source and seen.count(source) == 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(source, **kw)

    monkeypatch.setattr(mrun, "measure_outcome", flaky)
    events = []
    res = run_panel(p, on_event=lambda kind, job, d: events.append((kind, job.key, d["attempt"])))
    assert res.complete and sorted(res.measured) == sorted(j.key for j in jobs)
    # the failing job went to the end of the queue, then succeeded on its second attempt
    assert events == [("retry", jobs[0].key, 1), ("done", jobs[1].key, 1), ("done", jobs[0].key, 2)]
    st = panel_status(p)
    assert len(st.done) == 2 and not st.failed
    rec = dict((j.key, r) for j, r in st.done)[jobs[0].key]
    assert rec.provenance.extra["panel"]["attempt"] == 2
    lines = (tmp_path / "store" / "failures.jsonl").read_text().splitlines()
    assert len(lines) == 1 and "RuntimeError" in lines[0] and "out of memory" in lines[0]
