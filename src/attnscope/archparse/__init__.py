"""Internals of :mod:`attnscope.arch` (raw config.json parsing). Import from ``attnscope.arch``."""
