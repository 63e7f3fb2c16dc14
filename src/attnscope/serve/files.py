"""The working folder of ``attnscope serve``: the only place the server reads results from and writes to.

Every user-given path is resolved inside the working folder (symlinks included) or refused
with :class:`PathOutsideError`; uploads are capped (:data:`MAX_UPLOAD_BYTES`), validated, and
kept under ``<workdir>/uploads/`` with a content-hash name, or deleted again when invalid.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attnscope.errors import RecordError

#: largest accepted upload (bytes): 20 MiB
MAX_UPLOAD_BYTES = 20 * 2**20
RESULT_SUFFIXES = (".jsonl", ".json")
UPLOAD_DIR = "uploads"
_SKIP_DIRS = {".git", "__pycache__", "node_modules", ".venv", "venv", ".mypy_cache", ".pytest_cache"}


class PathOutsideError(RecordError):
    """A path that leaves the working folder (absolute elsewhere, ``..``, or a symlink pointing out)."""


class UploadTooLargeError(RecordError):
    """An upload larger than the cap."""


@dataclass(frozen=True)
class ResultFile:
    """A results / record file found in the working folder."""

    path: str  # relative to the working folder, with forward slashes
    size_bytes: int
    modified: float


class Workdir:
    """The working folder (resolved once; must exist and be a folder)."""

    def __init__(self, root: str | os.PathLike, *, max_upload_bytes: int = MAX_UPLOAD_BYTES):
        root_p = Path(root).expanduser()
        if not root_p.is_dir():
            raise RecordError("the working folder does not exist or is not a folder", field="workdir", value=str(root))
        self.root = root_p.resolve()
        self.max_upload_bytes = int(max_upload_bytes)

    # ------------------------------------------------------------------ paths
    def resolve(self, rel: str, *, must_exist: bool = True) -> Path:
        """A user-given path, resolved inside the working folder.

        Relative paths are taken from the working folder (not the server's current folder);
        absolute ones must point inside it.

        Raises
        ------
        PathOutsideError
            The path leaves the working folder. RecordError when it does not exist.
        """
        if not isinstance(rel, str) or not rel.strip() or "\x00" in rel:
            raise RecordError("give a path inside the working folder", field="path", value=rel)
        p = Path(rel.strip()).expanduser()
        full = (p if p.is_absolute() else self.root / p).resolve()
        if full != self.root and self.root not in full.parents:
            raise PathOutsideError(f"outside the working folder {self.root}: the server only reads and writes there",
                                   field="path", value=rel)
        if must_exist and not full.exists():
            raise RecordError("no such file in the working folder", field="path", value=rel)
        return full

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def looks_like_path(self, source: str) -> bool:
        """True for model sources meant as paths: './x', '/x', '~/x', '*.json', or an existing entry here."""
        s = source.strip()
        if s.startswith((".", "/", "~")) or s.lower().endswith(".json"):
            return True
        try:
            return (self.root / s).exists()
        except (OSError, ValueError):
            return False

    def list_results(self, *, max_files: int = 500, max_depth: int = 4) -> list[ResultFile]:
        """Results / record files (``*.jsonl``, ``*.json``) under the working folder, newest first."""
        out: list[ResultFile] = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            depth = len(Path(dirpath).relative_to(self.root).parts)
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")
                                 and depth < max_depth)
            for fn in sorted(filenames):
                if fn.lower().endswith(RESULT_SUFFIXES) and not fn.startswith("."):
                    p = Path(dirpath) / fn
                    try:
                        st = p.stat()
                        inside = self.root in p.resolve().parents
                    except OSError:  # a dangling symlink or an unreadable entry is not a result to list
                        st, inside = None, False
                    if st is not None and inside:
                        out.append(ResultFile(self.relative(p), st.st_size, st.st_mtime))
                if len(out) >= max_files:
                    break
            if len(out) >= max_files:
                break
        return sorted(out, key=lambda f: (-f.modified, f.path))

    # ------------------------------------------------------------------ uploads
    def check_size(self, n_bytes: int, name: str) -> None:
        if n_bytes > self.max_upload_bytes:
            raise UploadTooLargeError(f"upload too large: more than the {self.max_upload_bytes / 2**20:g} MiB cap",
                                      field="upload", value=name)

    def upload_path(self, name: str, data: bytes) -> Path:
        """Where an upload goes: ``uploads/<sha256[:12]>-<safe name>`` (same content -> same file)."""
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(str(name or "upload")).name).strip("._") or "upload"
        if not base.lower().endswith(RESULT_SUFFIXES):
            raise RecordError("upload a results .jsonl or a record / atlas .json file", field="upload", value=name)
        digest = hashlib.sha256(data).hexdigest()[:12]
        return self.root / UPLOAD_DIR / f"{digest}-{base[-80:]}"

    def save_upload(self, name: str, data: bytes) -> Path:
        """Write an upload (atomic) to :meth:`upload_path`, after the size cap."""
        self.check_size(len(data), name)
        path = self.upload_path(name, data)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return path

    def as_dict(self) -> dict[str, Any]:
        return {"root": str(self.root), "max_upload_bytes": self.max_upload_bytes}
