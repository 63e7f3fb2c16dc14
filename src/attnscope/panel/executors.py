"""Executors: run job payloads and yield their results as they finish.

Every executor runs the same function, :func:`attnscope.panel.jobs.run_job`, on
the same plain payloads, so every executor yields the same records (only wall
time and provenance differ). Results go back to the driver, which alone writes
the store: workers need no shared filesystem.

- :class:`LocalExecutor` without devices: sequential, in this process.
- :class:`LocalExecutor` with devices: one worker process per device (spawned,
  ``CUDA_VISIBLE_DEVICES=<device>`` set before torch is imported), each running
  one job at a time; a crashed worker (out of memory, segfault) fails its job
  and is replaced.
- :class:`RayExecutor` (the ``ray`` extra): one ``ray.remote`` task per job with
  ``num_gpus``/``num_cpus`` per task, on an existing cluster (``address``) or a
  local instance it starts and shuts down.
"""
from __future__ import annotations

import os
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Optional

from attnscope.panel.jobs import run_job

Result = dict[str, Any]


def system_failure(payload: dict[str, Any], exc: BaseException, *, where: str) -> Result:
    """A failure result for a job whose worker died or could not run it."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return {"key": payload["key"], "ok": False, "error_type": type(exc).__name__,
            "reason": f"{where}: {reason}", "traceback": "", "worker": {}, "wall_s": None}


class LocalExecutor:
    """Sequential in-process execution, or one spawned process per device.

    Parameters
    ----------
    devices : list of str, optional
        Device ids for ``CUDA_VISIBLE_DEVICES`` (e.g. ``["0", "1"]``); one worker
        process each. None or empty: run sequentially in this process.
    job_fn : callable, optional
        The job function (default :func:`attnscope.panel.jobs.run_job`); must be a
        module-level function so that spawned workers can import it.
    """

    def __init__(self, devices: Optional[list[str]] = None, *, job_fn: Optional[Callable[[dict], Result]] = None):
        self.devices = list(devices or [])
        self.job_fn = job_fn if job_fn is not None else run_job
        self.name = "local" if not self.devices else f"local-processes[{','.join(self.devices)}]"
        self._pools: dict[str, Any] = {}

    def run(self, payloads: Iterable[dict[str, Any]]) -> Iterator[Result]:
        if not self.devices:
            for p in payloads:
                yield self.job_fn(p)
            return
        yield from self._run_processes(list(payloads))

    def _pool(self, dev: str):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if dev not in self._pools:
            self._pools[dev] = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                   initializer=_set_device, initargs=(dev,))
        return self._pools[dev]

    def _run_processes(self, payloads: list[dict[str, Any]]) -> Iterator[Result]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        queue = deque(payloads)
        running: dict[Any, tuple[str, dict[str, Any]]] = {}

        def submit(dev: str) -> None:
            if queue:
                p = queue.popleft()
                running[self._pool(dev).submit(self.job_fn, p)] = (dev, p)

        for dev in self.devices:
            submit(dev)
        while running:
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in done:
                dev, p = running.pop(fut)
                try:
                    res = fut.result()
                except BrokenProcessPool as exc:  # the worker died: fail this job, replace the worker
                    res = system_failure(p, exc, where=f"worker process for device {dev} died")
                    self._discard(dev)
                except Exception as exc:  # the payload or result could not cross the process boundary
                    res = system_failure(p, exc, where=f"worker process for device {dev}")
                yield res
                submit(dev)

    def _discard(self, dev: str) -> None:
        pool = self._pools.pop(dev, None)
        if pool is not None:
            _stop_pool(pool)

    def close(self) -> None:
        for dev in list(self._pools):
            self._discard(dev)


def _set_device(dev: str) -> None:
    os.environ["CUDA_VISIBLE_DEVICES"] = dev


def _stop_pool(pool) -> None:
    """Shut a pool down without waiting; end its worker processes (ours) by pid."""
    procs = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=10)


class RayExecutor:
    """Jobs as ``ray.remote`` tasks.

    Parameters
    ----------
    address : str, optional
        Address of an existing Ray cluster (``"auto"``, ``"ray://host:10001"``, ...).
        None: start a local instance (``num_cpus`` CPUs, no dashboard), shut down on close.
    num_cpus : int, optional
        CPUs of the local instance (ignored with ``address``).
    gpus_per_job : float, optional
        ``num_gpus`` of each task. None: 1 when the cluster has GPUs, else 0 (the choice
        is reported in :attr:`notes`).
    cpus_per_job : float
        ``num_cpus`` of each task.
    """

    def __init__(self, address: Optional[str] = None, *, num_cpus: Optional[int] = None,
                 gpus_per_job: Optional[float] = None, cpus_per_job: float = 1.0):
        from attnscope.errors import require_extra

        self._ray = require_extra("ray", "ray")
        ray = self._ray
        self.notes: list[str] = []
        self._started = False
        if not ray.is_initialized():
            try:
                if address is not None:
                    ray.init(address=address, log_to_driver=False)
                else:
                    # "local": always a new instance, never a cluster that `ray start` left on this machine
                    ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
            except Exception as exc:  # no cluster at that address, a version mismatch, ...: one line
                from attnscope.errors import ConfigError

                where = f"the Ray cluster at {address!r}" if address else "a local Ray instance"
                raise ConfigError(f"cannot start or join {where}: {type(exc).__name__}: "
                                  f"{' '.join(str(exc).split())[:300]}", field="address", value=address) from exc
            self._started = True
        if gpus_per_job is None:
            has_gpu = ray.cluster_resources().get("GPU", 0) > 0
            gpus_per_job = 1.0 if has_gpu else 0.0
            self.notes.append(f"gpus_per_job not given: {gpus_per_job:g} (the cluster has "
                              f"{'GPUs' if has_gpu else 'no GPUs'})")
        self.gpus_per_job, self.cpus_per_job = float(gpus_per_job), float(cpus_per_job)
        self.name = f"ray[{address or 'local'}]"
        self._task = ray.remote(num_gpus=self.gpus_per_job, num_cpus=self.cpus_per_job, max_retries=0)(run_job)

    def run(self, payloads: Iterable[dict[str, Any]]) -> Iterator[Result]:
        ray = self._ray
        refs = {self._task.remote(p): p for p in payloads}
        try:
            while refs:
                ready, _ = ray.wait(list(refs), num_returns=1)
                for ref in ready:
                    p = refs.pop(ref)
                    try:
                        res = ray.get(ref)
                    except Exception as exc:  # worker or node died, task could not be scheduled: fail the job
                        res = system_failure(p, exc, where="ray task failed")
                    yield res
        finally:
            for ref in refs:  # interrupted: cancel what has not finished (never written, re-run later)
                ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


def make_executor(kind: str, *, devices: Optional[list[str]] = None, address: Optional[str] = None,
                  num_cpus: Optional[int] = None, gpus_per_job: Optional[float] = None,
                  cpus_per_job: float = 1.0):
    """The executor named ``kind`` ("local" or "ray")."""
    from attnscope.errors import ConfigError

    if kind == "local":
        if address is not None:
            raise ConfigError("--address is for the ray executor", field="address", value=address)
        return LocalExecutor(devices)
    if kind == "ray":
        if devices:
            raise ConfigError("devices are for the local executor; ray places jobs by gpus_per_job",
                              field="devices", value=devices)
        return RayExecutor(address, num_cpus=num_cpus, gpus_per_job=gpus_per_job, cpus_per_job=cpus_per_job)
    raise ConfigError("unknown executor; choose local or ray", field="executor", value=kind)
