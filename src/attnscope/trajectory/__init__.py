"""Depth schedules: per-layer weight-scale trajectories with proper model selection.

``trajectory(models, ...)`` reads norm gains and projection norms per layer
straight from safetensors (no model construction), fits five functional forms
with AIC/BIC, parameter CIs and Akaike weights, derives attention-temperature
schedules only where weights set the logit scale, and compares everything with a
random-init null of the same architecture.
"""
from __future__ import annotations

from attnscope.trajectory.run import ModelTrajectory, TrajectoryResult, trajectory

__all__ = ["ModelTrajectory", "TrajectoryResult", "trajectory"]
