"""End to end: the atlas of a tiny random-init model is the null in the residual-write space."""
import json

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_mha(tmp_path_factory):
    """A tiny Llama with one KV head per query head (no GQA), random weights, saved as a local folder."""
    folder = tmp_path_factory.mktemp("tiny_mha")
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                                   num_key_value_heads=4, vocab_size=300, max_position_embeddings=128)
    transformers.AutoModelForCausalLM.from_config(cfg).save_pretrained(folder)
    return str(folder)


def test_random_init_heads_are_indistinguishable_from_null(tiny_mha):
    from attnscope.atlas.run import atlas

    rec = atlas(tiny_mha, corpus="random", tokens=380, T=64, k=4, n_boot=30, null_draws=60, device="cpu")
    assert [L.layer for L in rec.layers] == [0, 1]
    for L in rec.layers:
        resid = next(s for s in L.spaces if s.space == "residual")
        assert resid.ambient_dim == 64
        assert resid.overlap.verdict == "indistinguishable from null"
        assert resid.overlap.ci95[0] <= resid.overlap.mean <= resid.overlap.ci95[1]
        assert len(resid.overlap.matrix) == 4
        assert all(d.twonn.ci95[0] <= d.twonn.estimate <= d.twonn.ci95[1] for d in resid.dims)
        # thermodynamics: at beta = 1, S <= log(#visible keys) and F = -log Z < 0 for T > 1
        t1 = [t for t in L.thermo if t.beta == 1.0]
        assert len(t1) == 4 and all(0 < t.S <= torch.log(torch.tensor(64.0)).item() + 1e-9 for t in t1)
        # the layer summary is the mean over heads, per beta, with its CI
        lay = {t.beta: t for t in L.thermo_layer}
        assert set(lay) == {0.5, 1.0, 2.0} and lay[1.0].head is None
        assert abs(lay[1.0].S - sum(t.S for t in t1) / 4) < 1e-9
        assert lay[1.0].S_ci95[0] <= lay[1.0].S <= lay[1.0].S_ci95[1]
        # entropy falls as beta (inverse temperature) rises
        assert lay[0.5].S >= lay[1.0].S >= lay[2.0].S
        assert any(s.space == "atlas_residual" for s in L.spaces)  # llama has a separate v_proj


def _cli(capsys, *args):
    from attnscope.cli import run

    return run(list(args)), capsys.readouterr()


def test_bad_inputs_are_one_line_errors(tiny_mha, capsys):
    for args, needle in ((["--layers", "5"], "layers=5"), (["--k", "99"], "k=99"), (["--tokens", "10"], "tokens=10")):
        code, cap = _cli(capsys, "atlas", tiny_mha, "--corpus", "random", "--device", "cpu", *args)
        assert code == 2, cap.err
        lines = [line for line in cap.err.strip().splitlines() if line.startswith("attnscope: error")]
        assert len(lines) == 1 and needle in lines[0], cap.err
        assert "Traceback" not in cap.err


def test_cli_writes_json_and_figures(tiny_mha, tmp_path, capsys):
    out = tmp_path / "atlas.json"
    code, cap = _cli(capsys, "atlas", tiny_mha, "--corpus", "random", "--layers", "1", "--k", "3", "--tokens", "200",
                     "--T", "32", "--n-boot", "20", "--no-dims", "--out", str(out), "--figures", str(tmp_path / "figs"),
                     "--device", "cpu")
    assert code == 0, cap.err
    data = json.loads(out.read_text())
    assert data["kind"] == "atlas" and data["layers"][0]["layer"] == 1
    ov = data["layers"][0]["spaces"][1]["overlap"]
    assert {"mean", "null_mean", "excess", "ci95", "verdict"} <= set(ov)
    assert (tmp_path / "figs" / "atlas_overlap_residual.png").stat().st_size > 1000
