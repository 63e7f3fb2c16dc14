"""Job expansion and job keys: one job per (model, revision, corpus, precision, protocol), stable keys."""
from __future__ import annotations

from attnscope.measure.settings import MEASURE_VERSION, make_settings
from attnscope.panel.jobs import expand_jobs, job_key
from attnscope.panel.spec import load_panel
from panel_fixtures import write_panel


def test_expansion_counts_and_order(tmp_path):
    p = write_panel(tmp_path, ["a", "b", "c"], corpora=("text", "random"), precisions=("float32", "bfloat16"))
    jobs = expand_jobs(load_panel(p))
    assert len(jobs) == 3 * 2 * 2 and len({j.key for j in jobs}) == 12
    assert [j.model for j in jobs[:4]] == ["a"] * 4
    assert [(j.corpus, j.precision) for j in jobs[:4]] == [("text", "float32"), ("text", "bfloat16"),
                                                            ("random", "float32"), ("random", "bfloat16")]
    j = jobs[1]
    assert j.kwargs["dtype"] == "bfloat16" and j.kwargs["corpus"] == "text" and j.kwargs["T"] == 48
    assert j.payload()["kwargs"] == j.kwargs and j.payload()["key"] == j.key


def test_key_is_measures_settings_key_and_the_model(tmp_path):
    jobs = expand_jobs(load_panel(write_panel(tmp_path, ["a"])))
    j = jobs[0]
    params = make_settings(**j.kwargs).key_params()
    assert params["measure_version"] == MEASURE_VERSION
    assert j.key == job_key("a", params)


def test_keys_stable_across_order_and_non_key_settings(tmp_path):
    k1 = {(j.model, j.corpus): j.key for j in expand_jobs(load_panel(write_panel(tmp_path, ["a", "b"])))}
    # reordered models, another store, other threads/device/executor: same job keys
    p = write_panel(tmp_path, ["b", "a"], store="elsewhere", extra='device = "cpu"', name="p2.toml")
    k2 = {(j.model, j.corpus): j.key for j in expand_jobs(load_panel(p))}
    assert k1 == k2
    # a setting that changes the measurement changes the key
    p3 = write_panel(tmp_path, ["a", "b"], name="p3.toml")
    p3.write_text(p3.read_text().replace("n_boot = 30", "n_boot = 40"))
    k3 = {(j.model, j.corpus): j.key for j in expand_jobs(load_panel(p3))}
    assert set(k3.values()).isdisjoint(k1.values())


def test_revision_and_random_init_are_separate_jobs(tmp_path):
    p = write_panel(tmp_path, [])
    p.write_text(p.read_text() + '\n[[models]]\nsource = "a"\n\n[[models]]\nsource = "a"\nrevision = "step1000"\n'
                 '\n[[models]]\nsource = "a"\nrandom_init = true\n')
    jobs = expand_jobs(load_panel(p))
    assert len({j.key for j in jobs}) == 3
    assert jobs[1].kwargs["revision"] == "step1000" and "@step1000" in jobs[1].title
    assert jobs[2].kwargs["random_init"] is True and "random init" in jobs[2].title


def test_local_weights_are_part_of_the_key(models_dir, tmp_path):
    import shutil

    from attnscope.panel.run import panel_status, run_panel

    folder = tmp_path / "model"
    shutil.copytree(models_dir / "m0", folder)
    p = write_panel(tmp_path, ["./model"])
    run_panel(p)
    assert len(panel_status(p).done) == 1
    # retrained weights in the same folder: a new job (the stored record is stale, not reused)
    shutil.copy(models_dir / "m1" / "model.safetensors", folder / "model.safetensors")
    st = panel_status(p)
    assert not st.done and len(st.pending) == 1 and st.orphans == 1
    # the same weights back: the stored record counts again
    shutil.copy(models_dir / "m0" / "model.safetensors", folder / "model.safetensors")
    assert len(panel_status(p).done) == 1
