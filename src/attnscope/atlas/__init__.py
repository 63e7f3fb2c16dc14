"""Head atlas: per-head output geometry (dimension, cross-head overlap with its null) and thermodynamics."""
