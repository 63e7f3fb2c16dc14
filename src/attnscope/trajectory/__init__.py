"""Depth schedules: per-layer weight-scale trajectories with proper model selection.

``trajectory(models, ...)`` reads norm gains and projection norms per layer
straight from safetensors (no model construction), fits five functional forms
with AIC/BIC, parameter CIs and Akaike weights, derives attention-temperature
schedules only where weights set the logit scale, and compares everything with a
random-init null of the same architecture.

Building blocks: :func:`layout_for` (per-family tensor name maps),
:func:`extract` (lazy per-layer statistics from a tensor source),
:func:`select_form` (fits + model selection, pure numpy/scipy).
"""
from __future__ import annotations

from attnscope.trajectory.extract import Extraction, extract
from attnscope.trajectory.fits import FormFit, Selection, select_form
from attnscope.trajectory.names import SUPPORTED_FAMILIES, layout_for
from attnscope.trajectory.run import ModelTrajectory, TrajectoryResult, trajectory
from attnscope.trajectory.sources import SafetensorsSource, StateDictSource, TensorNameError

__all__ = ["Extraction", "FormFit", "ModelTrajectory", "SUPPORTED_FAMILIES", "SafetensorsSource", "Selection",
           "StateDictSource", "TensorNameError", "TrajectoryResult", "extract", "layout_for", "select_form", "trajectory"]

from attnscope._lazy import make_callable  # noqa: E402

make_callable(__name__, "attnscope.trajectory.run", "trajectory")
