"""The constants registry: every empirical constant once, with provenance; no torch on import."""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

import attnscope.theory as theory
from attnscope.errors import DomainError
from attnscope.theory import constants

THEORY_DIR = pathlib.Path(theory.__file__).parent


def test_registry_complete_and_well_formed():
    names = [n for n in dir(constants) if isinstance(getattr(constants, n), constants.Constant)]
    assert set(names) == set(constants.REGISTRY)
    for name, c in constants.REGISTRY.items():
        assert c.name == name
        assert c.status in ("validated", "exploratory", "disabled")
        assert c.source and c.note
        assert c.n is None or c.n >= 1
        assert float(c) == c.value
        assert set(c.to_dict()) == {"name", "value", "n", "source", "status", "note"}
    assert constants.get_constant("DELTA_SWA").status == "disabled"
    with pytest.raises(DomainError):
        constants.get_constant("NOPE")


def test_constants_frozen():
    with pytest.raises(Exception):
        constants.DELTA_GQA.value = 1.0  # type: ignore[misc]


def test_no_empirical_literals_outside_constants():
    # The published empirical numbers must appear only in constants.py.
    published = {0.11, -0.21, 0.21, 0.15, -0.15, 0.10, -0.10, 51.2, 16.8, 0.18, 4e8, 400.0, 0.26, 0.19, 0.95, 0.85}
    for path in THEORY_DIR.glob("*.py"):
        if path.name == "constants.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                assert node.value not in published, (path.name, node.value)


def test_import_does_not_load_torch_numpy_scipy():
    code = ("import sys, attnscope.theory; "
            "bad = [m for m in ('torch', 'transformers', 'numpy', 'scipy') if m in sys.modules]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""


def test_docs_list_every_constant():
    doc = pathlib.Path(__file__).resolve().parents[2] / "docs" / "theory.md"
    text = doc.read_text(encoding="utf-8")
    for name in constants.REGISTRY:
        assert f"`{name}`" in text, name
