"""Figure functions: pure, deterministic, inline SVG with per-figure id salts."""
import re

from attnscope.report.figures import decay_svg, heatmap_svg, message_svg
from attnscope.report.figures_depth import phase_svg
from attnscope.theory.pade import gamma_pade


def _curve():
    d = [10, 30, 100, 300, 1000]
    A = [0.05 * x ** -0.7 for x in d]
    return dict(label="c", distances=d, A=A, lo=[a * 0.9 for a in A], hi=[a * 1.1 for a in A],
                fit=(-3.0, 0.7, 30), null=[1 / (x + 50) for x in d])


def test_svg_deterministic_and_salted():
    a1, a2, b = decay_svg([_curve()], fid="a"), decay_svg([_curve()], fid="a"), decay_svg([_curve()], fid="b")
    assert a1 == a2  # no dates, no random ids
    assert a1.startswith("<svg") and "<metadata>" not in a1 and "<?xml" not in a1
    ids_a, ids_b = set(re.findall(r'\sid="([^"]+)"', a1)), set(re.findall(r'\sid="([^"]+)"', b))
    assert ids_a and not (ids_a & ids_b)  # two figures on one page never share element ids
    assert "γ = 0.7" in a1  # the fit's exponent is in the legend, as text


def test_heatmap_handles_missing_cells_and_empty():
    svg = heatmap_svg([[0.1, None], [0.3, 0.4]], fid="h", center=0.0)
    assert "data:image/png;base64," in svg and "0.3" in svg  # annotated small field
    assert "no finite values" in heatmap_svg([[None]], fid="e")
    assert message_svg("hello", "m").count("<svg") == 1


def test_phase_diagram_places_points():
    panel = [dict(theta=1e4, gamma=0.7, lo=0.6, hi=0.8, corpus="text", label="p")]
    mine = [dict(theta=5e5, gamma=0.9, lo=0.85, hi=0.95, label="mine", gamma_pade=gamma_pade(5e5, 2048))]
    svg = phase_svg(panel, mine, [2048.0], fid="ph", hagedorn_edge=0.95)
    assert "γ_Padé(θ, T = 2,048)" in svg and "mine (measured)" in svg and "reference panel (text)" in svg
    assert "no RoPE θ" in phase_svg([], [], [], fid="none", hagedorn_edge=0.95)


def test_threads_get_identical_figures():
    """rcParams are global: figures built from several threads must still come out identical."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        outs = list(pool.map(lambda i: decay_svg([_curve()], fid="t"), range(3)))
    assert outs[0] == outs[1] == outs[2] == decay_svg([_curve()], fid="t")
