"""The documented top-level API: lazy, torch-free at import, and callable."""
import subprocess
import sys


def test_import_attnscope_loads_no_torch_and_the_api_is_callable():
    code = (
        "import sys, attnscope\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules\n"
        "from attnscope import card, measure, atlas, trajectory\n"
        "assert all(callable(f) for f in (card, measure, atlas, trajectory))\n"
        "import attnscope.measure.run, attnscope.atlas.run, attnscope.trajectory.run\n"
        "from attnscope import measure as m2\n"
        "assert callable(m2) and m2.measure_model is attnscope.measure.run.measure_model\n"
        "c = card('pythia-70m')\n"
        "assert abs(c.predictions['gamma_pade'] - (2e4 - 2**0.5 * 2048) / (2e4 + 2**0.5 * 2048)) < 1e-12\n"
        "assert 'torch' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
