"""The result store of a panel: one folder, one writer.

Layout::

    <store>/records.jsonl    MeasurementRecord lines; provenance.extra["panel"] holds the job key,
                             the attempt, the executor and the worker (host, pid, devices)
    <store>/failures.jsonl   one line per failed attempt: job key, attempt, error type, reason
    <store>/records.parquet  optional flat export (the ``parquet`` extra)
    <store>/.lock            held (flock) by the one ``panel run`` writing the store

Workers (processes, Ray tasks, possibly on other hosts) return their records to
the driver, and only the driver appends, with :func:`attnscope.io.append_jsonl`
(one ``write`` per line, then fsync). A crash leaves at most a truncated last
line, which is not a finished record and is dropped on the next append. Reads
de-duplicate by job key (the first record wins) and count duplicates, so even
two stores concatenated by hand never yield a job twice.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from attnscope.errors import RecordError
from attnscope.io import append_jsonl, read_jsonl
from attnscope.records import MeasurementRecord

RECORDS = "records.jsonl"
FAILURES = "failures.jsonl"
PARQUET = "records.parquet"


@dataclass(frozen=True)
class Failure:
    """One failed attempt of a job."""

    key: str
    attempt: int
    error_type: str
    reason: str
    title: str = ""
    executor: str = ""
    worker: dict[str, Any] = field(default_factory=dict)
    utc: str = ""


@dataclass
class StoreContents:
    """What a store holds, read once."""

    records: dict[str, MeasurementRecord]  # job key -> first record
    failures: dict[str, list[Failure]]  # job key -> attempts, in order
    duplicates: int = 0  # records whose job key was already present
    foreign: int = 0  # measurement records without a panel job key (e.g. appended by hand)


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def panel_key(obj: dict[str, Any]) -> Optional[str]:
    """The job key stored in a record's provenance, if any."""
    extra = ((obj.get("provenance") or {}).get("extra") or {})
    panel = extra.get("panel") if isinstance(extra, dict) else None
    return panel.get("job_key") if isinstance(panel, dict) else None


class Store:
    """A panel's result store folder (see the module docstring for the layout)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock_fd: Optional[int] = None

    @property
    def records_path(self) -> Path:
        return self.path / RECORDS

    @property
    def failures_path(self) -> Path:
        return self.path / FAILURES

    def read(self) -> StoreContents:
        """Records by job key (first wins) and failures by job key."""
        records: dict[str, MeasurementRecord] = {}
        dup = foreign = 0
        for obj in self._lines(self.records_path):
            if obj.get("kind") != "measurement":
                continue
            key = panel_key(obj)
            if key is None:
                foreign += 1
                continue
            if key in records:
                dup += 1
                continue
            try:
                records[key] = MeasurementRecord.model_validate(obj)
            except ValueError as exc:
                raise RecordError(f"a record of job {key[:12]} does not match the schema ({exc})",
                                  field="path", value=str(self.records_path)) from None
        failures: dict[str, list[Failure]] = {}
        for obj in self._lines(self.failures_path):
            if obj.get("kind") != "panel_failure":
                continue
            try:
                f = Failure(str(obj["job_key"]), int(obj["attempt"]), str(obj["error_type"]), str(obj["reason"]),
                            obj.get("title", ""), obj.get("executor", ""), obj.get("worker") or {}, obj.get("utc", ""))
            except (KeyError, TypeError, ValueError) as exc:
                raise RecordError(f"a failure line lacks {exc} or has a wrong type", field="path",
                                  value=str(self.failures_path)) from None
            failures.setdefault(f.key, []).append(f)
        return StoreContents(records, failures, dup, foreign)

    @staticmethod
    def _lines(path: Path) -> Iterator[dict]:
        if path.exists():
            yield from read_jsonl(path)

    def append_record(self, record: MeasurementRecord) -> None:
        append_jsonl(self.records_path, record)

    def append_failure(self, failure: Failure) -> None:
        append_jsonl(self.failures_path, {"kind": "panel_failure", "job_key": failure.key, "attempt": failure.attempt,
                                          "error_type": failure.error_type, "reason": failure.reason,
                                          "title": failure.title, "executor": failure.executor,
                                          "worker": failure.worker, "utc": failure.utc or utc_now()})

    # -- one writer ---------------------------------------------------------------------------
    def lock(self) -> None:
        """Take the store's write lock; a second concurrent ``panel run`` gets a RecordError."""
        import fcntl

        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip()
            os.close(fd)
            raise RecordError(f"another panel run is writing this store (pid {holder or '?'}); wait for it or "
                              "use another store", field="store", value=str(self.path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            import fcntl

            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> "Store":
        self.lock()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.unlock()


def flat_row(job_key: str, rec: MeasurementRecord) -> dict[str, Any]:
    """One flat row of a record (the parquet columns); the full record is kept as JSON."""
    m = rec.measurement
    panel = rec.provenance.extra.get("panel", {})
    return {
        "job_key": job_key, "record_key": rec.key, "model_id": rec.model_id, "model": panel.get("model"),
        "revision": rec.revision, "corpus": m.corpus, "precision": m.precision, "protocol": m.protocol,
        "protocol_label": panel.get("protocol"), "random_init": m.random_init, "T_eval": m.T_eval,
        "gamma": m.gamma, "gamma_ci95_lo": m.gamma_ci95_lo, "gamma_ci95_hi": m.gamma_ci95_hi,
        "gamma_uniform": m.null.gamma_uniform if m.null else None, "excess": m.null.excess if m.null else None,
        "verdict": m.null.verdict if m.null else None, "mle_gamma": m.mle.gamma if m.mle else None,
        "R2": m.fit.R2 if m.fit else None, "sink_mass": m.sink_mass, "gamma_pade": rec.predictions.gamma_pade,
        "wall_s": rec.provenance.wall_s, "record_json": json.dumps(rec.model_dump(mode="json"), sort_keys=True),
    }


def export_parquet(store: Store, path: Optional[str | os.PathLike] = None) -> Path:
    """Write the store's records as a flat parquet table (needs ``pip install 'attnscope[parquet]'``).

    Written to a temporary file then renamed (atomic). Returns the path written.
    """
    from attnscope.errors import require_extra

    pa = require_extra("pyarrow", "parquet")
    pq = require_extra("pyarrow.parquet", "parquet")
    contents = store.read()
    rows = [flat_row(k, r) for k, r in contents.records.items()]
    out = Path(path) if path is not None else store.path / PARQUET
    out.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows) if rows else pa.table({"job_key": pa.array([], pa.string())})
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp)
    os.replace(tmp, out)
    return out
