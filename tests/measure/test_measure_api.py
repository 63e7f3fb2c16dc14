"""Public API: attnscope.measure is callable; the estimators import without torch."""
import subprocess
import sys

import attnscope


def test_package_forwards_calls_to_measure(monkeypatch):
    import attnscope.measure
    import attnscope.measure.run as run

    monkeypatch.setattr(run, "measure", lambda *a, **k: ("called", a, k))
    assert attnscope.measure("tiny-main", corpus="random") == ("called", ("tiny-main",), {"corpus": "random"})


def test_estimators_do_not_import_torch():
    code = ("import sys; import attnscope.measure.analysis, attnscope.measure.protocols, "
            "attnscope.measure.settings; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
