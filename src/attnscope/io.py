"""Append-only JSONL stores: atomic appends, tolerant reads, resume by content key."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

from attnscope.errors import RecordError


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_key(params: Any) -> str:
    """sha256 of the canonical JSON of every input that changes the output."""
    return hashlib.sha256(canonical_json(params).encode()).hexdigest()


def append_jsonl(path: str | os.PathLike, obj: Any) -> None:
    """Append one JSON line atomically: a single ``write`` of the whole line, then fsync.

    With ``O_APPEND`` a single write of one line is never interleaved with
    another writer's line, and a crash leaves at most a truncated final line,
    which :func:`read_jsonl` reports and :func:`repair_jsonl` removes.
    """
    line = (canonical_json(obj) if not hasattr(obj, "model_dump_json") else obj.model_dump_json()) + "\n"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    repair_jsonl(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        data = line.encode()
        written = os.write(fd, data)
        if written != len(data):  # pragma: no cover - disk full
            raise OSError(f"short write to {path}: {written} of {len(data)} bytes")
        os.fsync(fd)
    finally:
        os.close(fd)


def repair_jsonl(path: str | os.PathLike) -> bool:
    """Drop a trailing partial line left by a crash. Returns True when something was removed."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return False
    with open(path, "rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return False
        fh.seek(0)
        data = fh.read()
        cut = data.rfind(b"\n") + 1
        fh.truncate(cut)
    return True


def read_jsonl(path: str | os.PathLike, *, strict: bool = True) -> Iterator[dict]:
    """Yield the objects of a JSONL file. A malformed complete line raises RecordError (strict)."""
    path = Path(path)
    if not path.exists():
        raise RecordError("no such results file", field="path", value=str(path))
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    last = len(lines) - 1
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            if i == last:  # a truncated final line from a crash: not a finished record
                continue
            if strict:
                raise RecordError(f"line {i + 1} is not JSON ({exc.msg})", field="path", value=str(path)) from None
            continue
        if not isinstance(obj, dict):
            raise RecordError(f"line {i + 1} is not a JSON object", field="path", value=str(path))
        yield obj


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write a whole file atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
