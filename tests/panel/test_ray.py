"""The Ray executor on a local 2-CPU instance gives the same records as the local executor."""
from __future__ import annotations

import pytest

from attnscope.panel.run import panel_status, run_panel
from panel_fixtures import write_panel

ray = pytest.importorskip("ray")


@pytest.mark.slow
def test_ray_and_local_give_identical_records(models_dir, tmp_path):
    missing = str(tmp_path / "no-such-model")
    p = write_panel(tmp_path, [str(models_dir / "m0"), str(models_dir / "m1"), missing], corpora=("random",),
                    retries=0)
    local = run_panel(p, store=tmp_path / "local")
    assert not ray.is_initialized()
    remote = run_panel(p, executor="ray", num_cpus=2, store=tmp_path / "ray")
    assert not ray.is_initialized()  # the local instance it started is shut down
    assert remote.executor == "ray[local]" and any("gpus_per_job" in n for n in remote.notes)
    a = {j.key: r for j, r in panel_status(p, store=tmp_path / "local").done}
    b = {j.key: r for j, r in panel_status(p, store=tmp_path / "ray").done}
    assert a.keys() == b.keys() and len(a) == 2
    for k in a:  # identical measurement payloads and record keys; only provenance differs
        assert a[k].key == b[k].key and a[k].measurement == b[k].measurement
        assert a[k].model_dump(exclude={"provenance"}) == b[k].model_dump(exclude={"provenance"})
        assert b[k].provenance.extra["panel"]["executor"] == "ray[local]"
    # the bad model fails the same way on both executors, with its reason recorded
    ((fa,),), ((fb,),) = local.failed.values(), remote.failed.values()  # one job, one attempt each
    assert fa.error_type == fb.error_type == "ModelSourceError" and fa.reason == fb.reason
    assert set(local.failed) == set(remote.failed)
