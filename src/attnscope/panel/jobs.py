"""Jobs of a panel: one per (model, revision, corpus, precision, protocol), each with a job key.

The job key is the content key (:func:`attnscope.io.content_key`) of the model
source as written in the panel file, of the measurement's own key parameters
(:meth:`attnscope.measure.settings.MeasureSettings.key_params`: corpus, dtype,
protocol settings, seeds, revision, random init and ``MEASURE_VERSION``) and,
for a bundled model or a local folder, of its config hash and weights fingerprint
(measure's :func:`~attnscope.measure.settings.weights_fingerprint`). It is
computed without loading a model or reaching the hub, so ``panel status`` works
offline, and a job's identity never depends on the executor that runs it. The record of a job
carries measure's own content key as ``record.key`` (which also fingerprints the
weights); the job key is stored beside it in ``provenance.extra["panel"]``.

:func:`run_job` is the job boundary: it runs one measurement and returns a
plain, picklable dict, catching every ``Exception`` and returning its type and
reason instead (a failure is recorded and retried by the driver, never dropped).
``KeyboardInterrupt`` is not caught: Ctrl-C stops the run.
"""
from __future__ import annotations

import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from attnscope.errors import AttnscopeError, ConfigError
from attnscope.io import content_key

if TYPE_CHECKING:  # pragma: no cover
    from attnscope.panel.spec import PanelSpec

JOB_KEY_VERSION = "1"


@dataclass(frozen=True)
class Job:
    """One measurement of the panel. ``kwargs`` are the keywords of :func:`attnscope.measure.measure`."""

    key: str
    model: str  # the source as written in the panel file
    revision: Optional[str]
    corpus: str
    precision: str
    protocol: str  # the protocol entry's label
    source: str  # the source to load (relative folders resolved against the panel file)
    kwargs: dict[str, Any] = field(default_factory=dict, compare=False)
    torch_threads: Optional[int] = None

    @property
    def title(self) -> str:
        rev = f"@{self.revision}" if self.revision else ""
        init = " (random init)" if self.kwargs.get("random_init") else ""
        return f"{self.model}{rev}{init} {self.corpus} {self.precision} {self.protocol}"

    def payload(self) -> dict[str, Any]:
        """What a worker needs (plain data: crosses process and host boundaries)."""
        return {"key": self.key, "source": self.source, "kwargs": dict(self.kwargs),
                "torch_threads": self.torch_threads}


def job_key(model: str, settings_key_params: dict[str, Any], local: Optional[dict[str, Any]] = None) -> str:
    """Content key of a job: the model as written, measure's key parameters and local weights' identity."""
    return content_key({"kind": "panel_job", "version": JOB_KEY_VERSION, "model": model,
                        "settings": settings_key_params, "local": local})


def local_identity(source: str) -> Optional[dict[str, Any]]:
    """Config hash and weights fingerprint of a bundled model or local folder; None for anything else.

    Uses measure's own :func:`attnscope.measure.settings.weights_fingerprint`, so retrained
    weights under the same name or path make new jobs instead of reusing stale records.
    Hub ids are identified by their revision (nothing is downloaded to key a job).
    """
    from pathlib import Path

    from attnscope.archparse.parse import config_sha256
    from attnscope.archparse.sources import models_dir, read_json
    from attnscope.measure.settings import weights_fingerprint

    s = source.strip()
    simple = "/" not in s and os.sep not in s and not s.startswith((".", "~"))
    folder = models_dir() / s if simple else Path(s).expanduser()
    try:
        if not (folder / "config.json").is_file():
            return None
        return {"config_sha256": config_sha256(read_json(folder / "config.json")),
                "weights": weights_fingerprint(folder)}
    except (AttnscopeError, OSError):  # unreadable: the job itself fails with the reason, recorded
        return None


def expand_jobs(spec: "PanelSpec", *, where: str = "panel") -> list[Job]:
    """Every job of the panel, in file order (models, then protocols, corpora, precisions).

    Raises
    ------
    ConfigError
        A measurement setting measure rejects (field ``protocols[i].<key>``), or two
        entries that describe the same job (field ``models[i].source``).
    """
    from attnscope.measure.settings import make_settings

    jobs: list[Job] = []
    seen: dict[str, tuple[int, int]] = {}
    for mi, m in enumerate(spec.models):
        local = local_identity(spec.model_source(m))
        for pi, p in enumerate(spec.protocols):
            for corpus in spec.corpora:
                for precision in spec.precisions:
                    kw = {**p.measure_kwargs(spec.base), "corpus": corpus, "dtype": precision,
                          "device": spec.device, "revision": m.revision, "random_init": m.random_init,
                          "trust_remote_code": m.trust_remote_code, "load_in_4bit": m.load_in_4bit,
                          "device_map": m.device_map}
                    try:
                        settings = make_settings(**kw)
                    except AttnscopeError as exc:
                        raise ConfigError(f"{exc.message} in {where}", field=f"protocols[{pi}].{exc.field}",
                                          value=exc.value) from None
                    key = job_key(m.source, settings.key_params(), local)
                    if key in seen:
                        mj, pj = seen[key]
                        if mj == mi:  # one model, two protocol entries with the same settings
                            raise ConfigError(f"has the same settings as protocols[{pj}] in {where}",
                                              field=f"protocols[{pi}]", value=p.name)
                        raise ConfigError(f"describes the same jobs as models[{mj}] in {where}",
                                          field=f"models[{mi}].source", value=m.source)
                    seen[key] = (mi, pi)
                    jobs.append(Job(key, m.source, m.revision, corpus, precision, p.name,
                                    spec.model_source(m), kw, spec.torch_threads))
    return jobs


def _worker() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}


def run_job(payload: dict[str, Any]) -> dict[str, Any]:
    """Measure one job; never raises ``Exception`` (the failure is returned with its reason).

    Returns
    -------
    dict
        ``{"key", "ok": True, "record": <MeasurementRecord JSON>, "worker", "wall_s"}`` or
        ``{"key", "ok": False, "error_type", "reason", "traceback", "worker", "wall_s"}``.
    """
    t0 = time.perf_counter()
    base = {"key": payload["key"], "worker": _worker()}
    try:
        if payload.get("torch_threads") is not None:
            import torch

            torch.set_num_threads(int(payload["torch_threads"]))
        from attnscope.measure.run import measure_outcome

        outcome = measure_outcome(payload["source"], **payload["kwargs"])
        return {**base, "ok": True, "record": outcome.record.model_dump(mode="json"),
                "wall_s": time.perf_counter() - t0}
    except Exception as exc:  # the job boundary: recorded with its reason and retried by the driver
        reason = exc.one_line() if isinstance(exc, AttnscopeError) else " ".join(str(exc).split())
        return {**base, "ok": False, "error_type": type(exc).__name__, "reason": reason or type(exc).__name__,
                "traceback": traceback.format_exc(limit=20), "wall_s": time.perf_counter() - t0}
