"""The full report: every section, the records' numbers, inline figures, self-contained HTML."""
import pytest
from markupsafe import escape

from attnscope.report import fmt, load_inputs, render_bundle
from attnscope.report.panel import ATTRIBUTION

from ._html import check_page
from .conftest import planted_panel


@pytest.fixture(scope="module")
def full(files, trajectory_file):
    bundle = load_inputs([str(files["results"]), str(files["atlas"]), str(files["other"]), str(trajectory_file),
                          "pythia-70m"])
    return bundle, render_bundle(bundle, panel=planted_panel())


def test_page_is_self_contained_and_well_formed(full):
    _, html = full
    c = check_page(html)
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert "position: sticky" in html  # the table of contents stays in view
    assert len(c.ids) > 20


def test_every_section_and_toc_entry(full):
    bundle, html = full
    ids = ["summary", "card-0", "card-1", "decay-overlay", "decay-0", "decay-1", "field-0", "training-0", "atlas-0",
           "trajectory-0-0", "panel", "inputs"]
    for sid in ids:
        assert f'<section id="{sid}"' in html, sid
        assert f'<a href="#{sid}">' in html, sid
    # pythia-70m was given as a model; planted-model gets its card from the arch stored in its records
    assert "TAF card: EleutherAI/pythia-70m" in html and "TAF card: planted-model" in html
    assert "built from the arch stored in its record" in html


def test_numbers_from_the_records_are_shown(full, files):
    bundle, html = full
    for rec in bundle.measurements:
        m = rec.measurement
        assert fmt.ci(m.gamma, m.gamma_ci95_lo, m.gamma_ci95_hi) in html
        assert fmt.ci(m.null.excess, m.null.excess_ci95_lo, m.null.excess_ci95_hi) in html
        assert fmt.ci(m.sink_mass, m.sink_mass_ci95_lo, m.sink_mass_ci95_hi) in html
        assert m.null.verdict in html
        for u in m.per_layer:
            assert fmt.ci(u.gamma, u.gamma_ci95_lo, u.gamma_ci95_hi) in html
        assert rec.key in html  # provenance
        assert m.ci_method in html
    assert 'class="badge badge-good">decays faster than uniform' in html
    ov = bundle.atlases[0].layers[1].spaces[1].overlap
    assert fmt.pair(ov.ci95, ov.mean) in html and fmt.ci(ov.null_mean, ov.null_q025, ov.null_q975) in html
    t = bundle.atlases[0].layers[0].thermo[0]
    assert fmt.pair(t.S_ci95, t.S) in html
    assert fmt.num(bundle.gamma_fields[0].gamma_global_fit) in html
    card = bundle.cards[0]
    assert fmt.num(card.predictions["gamma_pade"]) in html and card.arch["config_sha256"] in html
    for rid, r in card.recipes.items():
        assert r["verdict"] in html
    for c in card.predictions["constants"]:
        assert c["name"] in html
    traj_model = bundle.trajectories[0]["models"][0]
    assert traj_model["config_sha256"] in html and bundle.trajectories[0]["key"] in html


def test_figures_are_inline_svg(full):
    bundle, html = full
    n_svg = html.count("<svg")
    # decay: overlay + 2 curves + 2 per-layer + 2 fields; gamma field 2; training 1; atlas: profile, 2 grids,
    # 2 dims, thermo; trajectory 1; panel 1
    assert n_svg >= 3 + 4 + 2 + 1 + 6 + 1 + 1
    assert html.count('class="fig"') == n_svg
    assert "data:image/png;base64," in html  # heatmaps rasterised inside their SVG


def test_provenance_details_everywhere(full):
    bundle, html = full
    n_sections = html.count('<section id="') - 3  # summary, inputs, overlay have no provenance
    assert html.count('<details class="provenance">') == n_sections
    assert "bootstrap replicates" in html and "provenance.transformers" in html and "5.23.0" in html


def test_panel_placement_and_attribution(full):
    bundle, html = full
    assert str(escape(ATTRIBUTION)) in html and "Carles Marin" in html and "Apache-2.0" in html
    assert "1 record(s) with quality flags partial" in html  # the flagged panel record is excluded, and said so
    assert "panel/flagged" not in html
    assert "Protocols differ" not in html  # same protocol (taf-e4) as the planted panel


def test_no_panel_means_no_panel_data(files):
    html = render_bundle(load_inputs([str(files["results"])]), panel=False)
    check_page(html)
    assert '<section id="panel"' not in html and "Carles Marin" not in html


def test_real_measurement_of_a_tiny_model():
    """A real ``measure`` run on a random-init 2-layer Llama renders with its own numbers."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    from attnscope.measure.run import measure_model
    from attnscope.report.inputs import Bundle

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(LlamaConfig(
        vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=128)).eval()
    rec = measure_model(model, None, model_id="tiny-random", corpus="random", T=128, distances=[5, 10, 20, 40, 80],
                        prompts=3, seeds=[1, 2], per_head=True, d_min=5, n_boot=100)
    bundle = Bundle(measurements=[rec])
    html = render_bundle(bundle, panel=planted_panel())
    check_page(html)
    m = rec.measurement
    assert fmt.ci(m.gamma, m.gamma_ci95_lo, m.gamma_ci95_hi) in html
    assert m.null.verdict in html and rec.key in html
    assert "γ field (layer × head)" in html
    assert "Protocols differ" in html  # rows protocol vs the taf-e4 panel


def test_sections_render_alone_for_web_pages(files):
    """Each section is a standalone fragment (the web app will serve them one by one)."""
    from attnscope.report import build_sections, render_section

    bundle = load_inputs([str(files["atlas"])])
    secs = build_sections(bundle, panel=False)
    assert [s.group for s in secs] == ["summary", "card", "atlas", "inputs"]
    frag = render_section(secs[2])
    assert frag.lstrip().startswith('<section id="atlas-0"') and frag.rstrip().endswith("</section>")
    assert "<html" not in frag and frag.count("<svg") >= 4


def test_config_only_report_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys; from attnscope.report import render_report; "
            "html = render_report(['pythia-70m'], panel=False); "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules; print(len(html))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-500:]


def test_trajectory_fits_with_cis_are_shown(full):
    bundle, html = full
    model = bundle.trajectories[0]["models"][0]
    shown = 0
    for by_stat in model["fits"].values():
        for sel in by_stat.values():
            if sel["selected"]:
                for p in sel["fits"][sel["selected"]]["params"]:
                    assert f"{p['name']} = {fmt.ci(p['value'], p['ci_low'], p['ci_high'])}" in html
                    shown += 1
    assert shown > 0  # the 4-layer fixture has fitted rows


def test_sparse_record_renders_with_dashes(files):
    """A record without fit, curve, null or CIs renders; missing numbers are dashes, not 'None'."""
    from attnscope.report.inputs import Bundle

    rec = files["records"][0]
    m = rec.measurement.model_copy(update=dict(gamma=None, gamma_ci95_lo=None, gamma_ci95_hi=None, fit=None,
                                               curve=None, null=None, mle=None, per_layer=None, per_head=None,
                                               sink_mass=None, sink_mass_ci95_lo=None, sink_mass_ci95_hi=None))
    html = render_bundle(Bundle(measurements=[rec.model_copy(update=dict(measurement=m))]), panel=False)
    check_page(html)
    assert "no null baseline" in html and "γ = —" in html and ">None<" not in html


def test_packaged_panel_is_attributed():
    """With the packaged panel (if this install ships it), the panel section carries the attribution."""
    from attnscope.card import card
    from attnscope.report import build_sections, render_section
    from attnscope.report.inputs import Bundle

    secs = build_sections(Bundle(cards=[card("pythia-70m")]), panel=True)
    panel = next(s for s in secs if s.id == "panel")
    frag = render_section(panel)
    if panel.ctx["note"]:
        pytest.skip(panel.ctx["note"])
    assert panel.ctx["n_points"] > 0 and str(escape(ATTRIBUTION)) in frag and "<svg" in frag


def test_card_without_pade_says_why_once():
    from attnscope.card import card
    from attnscope.report import render_section
    from attnscope.report.sections import card_section

    c = card("gpt2")
    reason = c.predictions["null_reasons"]["gamma_pade"]
    frag = render_section(card_section(c, 0))
    assert "γ_Padé does not apply" in frag and str(escape(reason)) in frag
    assert frag.count(str(escape(reason))) == 1 + sum(str(escape(reason)) in r["reason"] for r in c.recipes.values())


def test_panel_records_given_as_input_are_attributed(files, tmp_path):
    """Records converted from the TAF data (provenance source 'tafagent:...') carry the attribution."""
    from attnscope.records import Provenance

    rec = files["records"][0]
    prov = Provenance(attnscope="0.1.0", source="tafagent:data/e4_gamma/x_mongo.json")
    p = tmp_path / "panel_rec.jsonl"
    p.write_text(rec.model_copy(update=dict(provenance=prov)).model_dump_json() + "\n" + rec.model_dump_json() + "\n")
    html = render_bundle(load_inputs([str(p)]), panel=False)
    assert html.count(str(escape(ATTRIBUTION))) == 1  # the converted record only, not the user's own


def test_trajectory_with_several_models_gets_an_overlay(trajectory_file, tmp_path):
    import json

    traj = json.loads(trajectory_file.read_text())
    second = dict(traj["models"][0], label="checkpoint-b")
    traj["models"].append(second)
    p = tmp_path / "traj2.json"
    p.write_text(json.dumps(traj))
    html = render_bundle(load_inputs([str(p)]), panel=False)
    check_page(html)
    assert '<section id="trajectory-0-all"' in html and "2 models compared" in html
    assert '<section id="trajectory-0-1"' in html and "checkpoint-b" in html


def test_sections_for_each_object_kind(files):
    from attnscope.errors import RecordError
    from attnscope.report import render_section, sections_for

    from .conftest import planted_gamma_field, planted_training

    bundle = load_inputs([str(files["atlas"])])
    for obj, sid in ((files["records"][0], "decay-3"), (bundle.atlases[0], "atlas-3"),
                     (planted_gamma_field(), "field-3"), (planted_training(), "training-3")):
        (sec,) = sections_for(obj, 3)
        assert sec.id == sid and render_section(sec).lstrip().startswith(f'<section id="{sid}"')
    with pytest.raises(RecordError, match="no report section"):
        sections_for(42)
