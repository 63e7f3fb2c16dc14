"""Run a panel (resumable, retrying), report its status, hand its records to the scorecard.

``run_panel``: expand the jobs → skip those whose job key has a record in the
store → run the rest on an executor, appending each record (or failure) as soon
as it returns → retry failed jobs up to ``retries`` times at the end of the
queue. A crash or Ctrl-C loses only the jobs in flight; a re-run does each
missing job once and never a finished one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from attnscope.panel.jobs import Job, expand_jobs
from attnscope.panel.spec import PanelSpec, load_panel
from attnscope.panel.store import Failure, Store, export_parquet, utc_now
from attnscope.records import MeasurementRecord

Event = Callable[[str, Job, dict[str, Any]], None]  # (kind: done|failed|retry, job, detail)


@dataclass
class PanelRun:
    """Outcome of one ``run_panel`` call."""

    store: Path
    executor: str
    n_jobs: int
    already_done: int
    measured: list[str] = field(default_factory=list)  # job keys measured now
    failed: dict[str, list[Failure]] = field(default_factory=dict)  # job key -> this run's failures (not done)
    notes: list[str] = field(default_factory=list)
    parquet: Optional[Path] = None

    @property
    def complete(self) -> bool:
        return not self.failed


@dataclass
class PanelStatus:
    """Done, failed and pending jobs of a panel in its store."""

    store: Path
    done: list[tuple[Job, MeasurementRecord]]
    failed: list[tuple[Job, list[Failure]]]  # not done, with every recorded attempt
    pending: list[Job]  # not done, never failed
    duplicates: int = 0
    foreign: int = 0  # measurement records without a job key
    orphans: int = 0  # records of jobs no longer in the panel file


def _spec(panel: PanelSpec | str | Path) -> PanelSpec:
    return panel if isinstance(panel, PanelSpec) else load_panel(panel)


def _tag(rec: MeasurementRecord, job: Job, *, panel: str, attempt: int, executor: str,
         worker: dict[str, Any]) -> MeasurementRecord:
    extra = {**rec.provenance.extra, "panel": {"job_key": job.key, "panel": panel, "model": job.model,
                                               "protocol": job.protocol, "attempt": attempt, "executor": executor,
                                               "worker": worker}}
    return rec.model_copy(update={"provenance": rec.provenance.model_copy(update={"extra": extra})})


def run_panel(panel: PanelSpec | str | Path, *, executor: Optional[str] = None, address: Optional[str] = None,
              retries: Optional[int] = None, devices: Optional[list[str]] = None,
              store: Optional[str | Path] = None, num_cpus: Optional[int] = None,
              gpus_per_job: Optional[float] = None, on_event: Optional[Event] = None) -> PanelRun:
    """Measure every job of a panel that its store does not hold yet.

    Parameters
    ----------
    panel : PanelSpec or path of a ``panel.toml``
    executor : {"local", "ray"}, optional
        Default: the file's ``[executor] kind`` (itself "local" by default).
    address : str, optional
        Ray cluster address (default: the file's, else a local Ray instance).
    retries : int, optional
        Extra attempts for a failed job in this run (default: the file's ``retries``).
    devices : list of str, optional
        Local executor: one process per device (``CUDA_VISIBLE_DEVICES``); default: the file's.
    store : path, optional
        Result store folder (default: the file's ``store``, relative to the file).
    num_cpus, gpus_per_job : optional
        Local Ray instance CPUs and ``num_gpus`` per task (default: the file's).
    on_event : callable, optional
        ``on_event(kind, job, detail)`` after each job: kind "done", "retry" (failed, will be
        retried) or "failed" (failed, no attempt left).

    Returns
    -------
    PanelRun
    """
    from attnscope.errors import ConfigError
    from attnscope.panel.executors import make_executor

    spec = _spec(panel)
    ex_cfg = spec.executor
    kind = executor if executor is not None else ex_cfg.kind
    n_retries = spec.retries if retries is None else retries
    if isinstance(n_retries, bool) or not isinstance(n_retries, int) or n_retries < 0:
        raise ConfigError("must be an integer >= 0", field="retries", value=n_retries)
    jobs = expand_jobs(spec)
    by_key = {j.key: j for j in jobs}
    st = Store(store if store is not None else spec.store_path)
    with st:
        contents = st.read()
        todo = [j for j in jobs if j.key not in contents.records]
        attempts = {j.key: len(contents.failures.get(j.key, [])) for j in todo}
        result = PanelRun(st.path, kind, len(jobs), len(jobs) - len(todo))
        if todo:
            file_devices = [str(d) for d in ex_cfg.devices] if ex_cfg.devices is not None else None
            ex = make_executor(kind, devices=devices if devices is not None else (
                file_devices if kind == "local" else None),
                address=address if address is not None else (ex_cfg.address if kind == "ray" else None),
                num_cpus=num_cpus if num_cpus is not None else ex_cfg.num_cpus,
                gpus_per_job=gpus_per_job if gpus_per_job is not None else ex_cfg.gpus_per_job,
                cpus_per_job=ex_cfg.cpus_per_job)
            result.executor = ex.name
            result.notes += getattr(ex, "notes", [])
            try:
                for round_ in range(n_retries + 1):
                    failed_now: list[Job] = []
                    for res in ex.run([j.payload() for j in todo]):
                        job = by_key[res["key"]]
                        attempts[job.key] += 1
                        ok = _handle(st, spec, job, res, attempt=attempts[job.key], executor=ex.name,
                                     last=round_ == n_retries, run=result, on_event=on_event)
                        if not ok:
                            failed_now.append(job)
                    todo = failed_now
                    if not todo:
                        break
            finally:
                ex.close()
    if spec.parquet:
        result.parquet = export_parquet(st)
    return result


def _handle(st: Store, spec: PanelSpec, job: Job, res: dict[str, Any], *, attempt: int, executor: str, last: bool,
            run: PanelRun, on_event: Optional[Event]) -> bool:
    """Write one job's result to the store; True when the job is done."""
    if res["ok"]:
        try:
            rec = MeasurementRecord.model_validate(res["record"])
        except ValueError as exc:  # a worker with another attnscope version: a failure, not a record
            res = {**res, "ok": False, "error_type": "RecordError",
                   "reason": f"the worker's record does not match this schema: {' '.join(str(exc).split())[:300]}"}
        else:
            st.append_record(_tag(rec, job, panel=spec.name, attempt=attempt, executor=executor,
                                  worker=res.get("worker", {})))
            run.measured.append(job.key)
            run.failed.pop(job.key, None)
            if on_event is not None:
                on_event("done", job, {"record": rec, "attempt": attempt, "wall_s": res.get("wall_s")})
            return True
    failure = Failure(job.key, attempt, res["error_type"], res["reason"], job.title, executor,
                      res.get("worker", {}), utc_now())
    st.append_failure(failure)
    run.failed.setdefault(job.key, []).append(failure)
    if on_event is not None:
        on_event("failed" if last else "retry", job, {"failure": failure, "attempt": attempt})
    return False


def panel_status(panel: PanelSpec | str | Path, *, store: Optional[str | Path] = None) -> PanelStatus:
    """Done, failed (with reasons) and pending jobs of a panel; reads the store, runs nothing."""
    spec = _spec(panel)
    jobs = expand_jobs(spec)
    st = Store(store if store is not None else spec.store_path)
    contents = st.read()
    done, failed, pending = [], [], []
    for j in jobs:
        if j.key in contents.records:
            done.append((j, contents.records[j.key]))
        elif j.key in contents.failures:
            failed.append((j, contents.failures[j.key]))
        else:
            pending.append(j)
    keys = {j.key for j in jobs}
    orphans = sum(1 for k in contents.records if k not in keys)
    return PanelStatus(st.path, done, failed, pending, contents.duplicates, contents.foreign, orphans)


def panel_records(panel: PanelSpec | str | Path, *, store: Optional[str | Path] = None) -> list[MeasurementRecord]:
    """The records of the panel's finished jobs, in job order (one per job)."""
    return [rec for _, rec in panel_status(panel, store=store).done]


def score_panel(panel: PanelSpec | str | Path, *, store: Optional[str | Path] = None, protocol: Optional[str] = None,
                precision: Optional[str] = None, include_random_init: bool = False) -> dict[str, Any]:
    """The reference-panel scorecard (:func:`attnscope.dataset.score_more.scorecard`) of the store's records.

    The scorecard's unit is one record per model and corpus, so the records are
    those of one protocol entry and one precision. Naming them is required when the
    panel has several. Random-init records (the falsifier) are left out unless
    ``include_random_init``: TAF's predictions are about trained weights.

    Parameters
    ----------
    protocol : str, optional
        Label of a protocol entry; required when the panel has more than one.
    precision : str, optional
        Required when the panel has more than one precision.
    include_random_init : bool
        Also score the records of ``random_init`` models.

    Returns
    -------
    dict
        The scorecard; ``panel`` also gives ``source`` (this panel and store), ``protocol``,
        ``precision`` and the number of ``excluded_random_init`` records.

    Raises
    ------
    ConfigError
        ``protocol``/``precision`` missing or not in the panel.
    RecordError
        The store holds no finished job of this selection.
    """
    from attnscope.dataset.score_more import scorecard
    from attnscope.errors import ConfigError, RecordError

    spec = _spec(panel)
    labels = [p.name for p in spec.protocols]
    chosen = {}
    for name, value, options in (("protocol", protocol, labels), ("precision", precision, list(spec.precisions))):
        if value is None and len(options) > 1:
            raise ConfigError(f"the scorecard takes one record per model and corpus; choose one of "
                              f"{', '.join(options)}", field=name, value=None)
        if value is not None and value not in options:
            raise ConfigError(f"not in this panel; choose one of {', '.join(options)}", field=name, value=value)
        chosen[name] = value if value is not None else options[0]
    status = panel_status(spec, store=store)
    picked = [(j, r) for j, r in status.done if j.protocol == chosen["protocol"] and j.precision == chosen["precision"]]
    records = [r for j, r in picked if include_random_init or not j.kwargs.get("random_init")]
    if not records:
        raise RecordError(f"no finished job of protocol {chosen['protocol']!r}, precision {chosen['precision']!r} "
                          "in the store; run `attnscope panel run` first", field="store", value=str(status.store))
    sc = scorecard(records)
    # the scorecard labels its data as the published panel; these records are this panel's
    sc["panel"] = {**sc["panel"], "source": f"panel {spec.name!r} ({len(records)} finished jobs in {status.store})",
                   "protocol": chosen["protocol"], "precision": chosen["precision"],
                   "excluded_random_init": len(picked) - len(records)}
    return sc
