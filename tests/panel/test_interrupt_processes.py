"""A real Ctrl-C (SIGINT to a `panel run` process) then resume; one process per device gives the same records."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from attnscope.panel.jobs import expand_jobs
from attnscope.panel.run import panel_status, run_panel
from attnscope.panel.spec import load_panel
from panel_fixtures import write_panel

# The CLI in a child process; every job after the first takes a minute (so SIGINT lands inside a job).
CHILD = """
import sys, time
from attnscope.panel import executors
from attnscope.panel.jobs import run_job
n = [0]
def slow_after_first(payload):
    n[0] += 1
    if n[0] > 1:
        time.sleep(60)
    return run_job(payload)
executors.run_job = slow_after_first
from attnscope.cli import main
main(["panel", "run", sys.argv[1]])
"""


def _store_keys(store):
    path = store / "records.jsonl"
    if not path.exists():
        return []
    return [json.loads(l)["provenance"]["extra"]["panel"]["job_key"] for l in path.read_text().splitlines() if l]


@pytest.mark.slow
def test_sigint_mid_run_then_resume(models_dir, tmp_path):
    p = write_panel(tmp_path, [str(models_dir / "m0"), str(models_dir / "m1")], corpora=("text", "random"))
    jobs = expand_jobs(load_panel(p))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(p)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not _store_keys(tmp_path / "store"):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the first job never finished"
            time.sleep(0.1)
        time.sleep(0.5)  # now inside the second (slow) job
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    assert _store_keys(tmp_path / "store") == [jobs[0].key]
    res = run_panel(p)  # resume: the three missing jobs, once each
    assert res.already_done == 1 and sorted(res.measured) == sorted(j.key for j in jobs[1:])
    keys = _store_keys(tmp_path / "store")
    assert sorted(keys) == sorted(j.key for j in jobs) and len(set(keys)) == len(keys) == 4


@pytest.mark.slow
def test_one_process_per_device_gives_the_same_records(models_dir, tmp_path):
    models = [str(models_dir / "m0"), str(models_dir / "m1")]
    p = write_panel(tmp_path, models, corpora=("random",))
    seq = run_panel(p, store=tmp_path / "seq")
    # one worker process (the dispatch over several devices is tested with a light job in test_executors)
    par = run_panel(p, store=tmp_path / "par", devices=["0"])
    assert seq.complete and par.complete and par.executor == "local-processes[0]"
    a = {j.key: r for j, r in panel_status(p, store=tmp_path / "seq").done}
    b = {j.key: r for j, r in panel_status(p, store=tmp_path / "par").done}
    assert a.keys() == b.keys() and len(a) == 2
    for k in a:
        assert a[k].key == b[k].key and a[k].measurement == b[k].measurement
        assert a[k].model_dump(exclude={"provenance"}) == b[k].model_dump(exclude={"provenance"})
    workers = [r.provenance.extra["panel"]["worker"] for r in b.values()]
    assert all(w["pid"] != os.getpid() for w in workers)
    assert {w["cuda_visible_devices"] for w in workers} == {"0"} and len({w["pid"] for w in workers}) == 1
