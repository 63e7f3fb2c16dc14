"""Read and write the packaged reference panel (``attnscope/data/tafagent/``).

Files
-----
measurements.jsonl          MeasurementRecord (kind "measurement"), one per line
gamma_fields.jsonl          GammaFieldRecord (kind "gamma_field")
training_trajectories.jsonl TrainingTrajectoryRecord (kind "training_trajectory")
manifest.jsonl              every raw file: path, sha256, disposition, reason, record keys
conversion_log.json         source, counts, panel seed MAD, warnings
NOTICE.md                   the source's licence and attribution (Apache-2.0, Carles Marin)
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from attnscope.errors import ModelSourceError, RecordError
from attnscope.io import atomic_write_text, read_jsonl
from attnscope.records import GammaFieldRecord, MeasurementRecord, TrainingTrajectoryRecord

FILES = {"measurement": "measurements.jsonl", "gamma_field": "gamma_fields.jsonl",
         "training_trajectory": "training_trajectories.jsonl"}
KINDS = {"measurement": MeasurementRecord, "gamma_field": GammaFieldRecord,
         "training_trajectory": TrainingTrajectoryRecord}
#: quality-flag prefixes that make a record unfit for the scorecard's clean panel
DEFECT_PREFIXES = ("partial", "kaggle_rerun", "layerwise", "summary_only", "fit_le_3_points", "marked_artefact",
                   "R2_below_0.9", "seed_outlier", "duplicate", "failed_measurement")


def panel_dir() -> Path:
    """Folder of the packaged panel inside the installed package."""
    return Path(__file__).resolve().parent.parent / "data" / "tafagent"


def parse_record(obj: dict[str, Any]):
    """A JSON object -> the pydantic record of its ``kind`` (RecordError if unknown or invalid)."""
    from pydantic import ValidationError

    kind = obj.get("kind")
    cls = KINDS.get(kind)
    if cls is None:
        raise RecordError(f"unknown record kind; known: {', '.join(KINDS)}", field="kind", value=kind)
    try:
        return cls.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise RecordError(f"invalid {kind} record: {first['msg']} at {'.'.join(map(str, first['loc']))}",
                          field="record", value=obj.get("key", "?")) from None


@lru_cache(maxsize=8)
def _load(kind: str, folder: str) -> tuple:
    path = Path(folder) / FILES[kind]
    return tuple(parse_record(o) for o in read_jsonl(path))


def load_panel(kind: str = "measurement", *, folder: str | Path | None = None) -> list:
    """Every packaged record of one kind.

    Parameters
    ----------
    kind : {"measurement", "gamma_field", "training_trajectory"}
    folder : path, optional
        A converted panel folder (default: the one shipped in the package).

    Returns
    -------
    list of MeasurementRecord, GammaFieldRecord or TrainingTrajectoryRecord
        In file order; parsed once per process (cached).

    Raises
    ------
    RecordError
        Unknown kind, missing file or an invalid line.
    """
    if kind not in FILES:
        raise RecordError(f"unknown record kind; known: {', '.join(FILES)}", field="kind", value=kind)
    return list(_load(kind, str(Path(folder) if folder else panel_dir())))


def load_manifest(folder: str | Path | None = None) -> list[dict]:
    """The conversion manifest: one dict per raw file (path, sha256, disposition, reason, record_keys)."""
    return list(read_jsonl(Path(folder or panel_dir()) / "manifest.jsonl"))


def load_conversion_log(folder: str | Path | None = None) -> dict:
    return json.loads((Path(folder or panel_dir()) / "conversion_log.json").read_text(encoding="utf-8"))


def is_clean(rec) -> bool:
    """True when no quality flag is a defect (informational flags such as theta_missing_in_file are fine)."""
    return not any(q.startswith(DEFECT_PREFIXES) for q in rec.quality)


def short_name(model_id: str) -> str:
    return model_id.rsplit("/", 1)[-1]


def find_model(name: str, records: Iterable) -> list:
    """Records of one model: exact HF id or short name (case-insensitive), else a unique substring.

    Raises :class:`ModelSourceError` (field ``model``) when nothing or several models match.
    """
    recs = list(records)
    ids = sorted({r.model_id for r in recs})
    low = name.lower()
    hit = [i for i in ids if i.lower() == low] or [i for i in ids if short_name(i).lower() == low]
    if not hit:
        hit = [i for i in ids if low in i.lower()]
    if not hit:
        raise ModelSourceError("not in the reference panel; `attnscope dataset list` shows the models",
                               field="model", value=name)
    if len(hit) > 1:
        raise ModelSourceError(f"ambiguous: matches {', '.join(hit)}", field="model", value=name)
    return [r for r in recs if r.model_id == hit[0]]


def _jsonl(records: Iterable) -> str:
    return "".join(r.model_dump_json() + "\n" for r in records)


def write_packaged(conv, out: str | Path, *, src: str | Path) -> Path:
    """Write a :class:`attnscope.dataset.convert.Conversion` as the packaged folder (atomic files)."""
    import dataclasses

    out = Path(out)
    atomic_write_text(out / FILES["measurement"], _jsonl(conv.measurements))
    atomic_write_text(out / FILES["gamma_field"], _jsonl(conv.gamma_fields))
    atomic_write_text(out / FILES["training_trajectory"], _jsonl(conv.trajectories))
    atomic_write_text(out / "manifest.jsonl",
                      "".join(json.dumps(dataclasses.asdict(m), sort_keys=True) + "\n" for m in conv.manifest))
    from collections import Counter

    log = {
        "source": "karlesmarin/tafagent data/ (snapshot 2026-07-10), Apache-2.0, Copyright 2026 Carles Marin",
        "source_folder_name": Path(src).name,
        "counts": {"measurement": len(conv.measurements), "gamma_field": len(conv.gamma_fields),
                   "training_trajectory": len(conv.trajectories),
                   "files": dict(Counter(m.disposition for m in conv.manifest))},
        "seed_outlier_panel_mad_ln": conv.seed_mad,
        "warnings": conv.warnings,
    }
    atomic_write_text(out / "conversion_log.json", json.dumps(log, indent=2, sort_keys=True) + "\n")
    notice = Path(src) / "NOTICE.md"
    if notice.exists():
        header = ("<!-- Shipped with attnscope: the records in this folder are converted from the files described "
                  "below. Attribution kept as required. -->\n\n")
        atomic_write_text(out / "NOTICE.md", header + notice.read_text(encoding="utf-8"))
    _load.cache_clear()
    return out
