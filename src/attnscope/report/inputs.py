"""Report inputs: detect each INPUT's kind by its content and load it into typed objects.

Kinds: a model source (preset, bundled model, folder, config.json -> the TAF card), a
results JSONL of records (``attnscope measure --out``), a single record JSON (atlas,
measurement, gamma field, training trajectory), and a trajectory JSON
(``attnscope trajectory --out``). No torch import: cards are config-only.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ValidationError

from attnscope.errors import RecordError
from attnscope.records import (
    AtlasRecord, GammaFieldRecord, MeasurementRecord, TrainingTrajectoryRecord,
)

RECORD_KINDS: dict[str, type[BaseModel]] = {
    "measurement": MeasurementRecord,
    "gamma_field": GammaFieldRecord,
    "training_trajectory": TrainingTrajectoryRecord,
    "atlas": AtlasRecord,
}
TRAJECTORY_KEYS = ("schema_version", "key", "params", "models")
CONFIG_HINT_KEYS = ("model_type", "architectures")


@dataclass(frozen=True)
class InputInfo:
    """One INPUT as given, what it was detected as, and what it held."""

    label: str
    kind: str  # "model" | "records" | "trajectory"
    sha256: Optional[str]
    n_items: int
    detail: str


@dataclass
class Bundle:
    """Everything the report shows, grouped by kind, in input order."""

    cards: list[Any] = field(default_factory=list)  # attnscope.card.Card
    measurements: list[MeasurementRecord] = field(default_factory=list)
    gamma_fields: list[GammaFieldRecord] = field(default_factory=list)
    training: list[TrainingTrajectoryRecord] = field(default_factory=list)
    atlases: list[AtlasRecord] = field(default_factory=list)
    trajectories: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[InputInfo] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add_record(self, rec: BaseModel) -> None:
        {"measurement": self.measurements, "gamma_field": self.gamma_fields,
         "training_trajectory": self.training, "atlas": self.atlases}[rec.kind].append(rec)

    @property
    def empty(self) -> bool:
        return not (self.cards or self.measurements or self.gamma_fields or self.training or self.atlases
                    or self.trajectories)


def _validation_message(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ())) or "(record)"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {err.get('msg', 'invalid')}{more}"


def parse_record(obj: Any, *, where: str, path: str) -> BaseModel:
    """Validate one JSON object as a record of its ``kind``; RecordError naming the place otherwise."""
    if not isinstance(obj, dict):
        raise RecordError(f"{where} is not a JSON object", field="path", value=path)
    kind = obj.get("kind")
    model = RECORD_KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise RecordError(f"{where}: unknown record kind {kind!r} (expected one of {sorted(RECORD_KINDS)})",
                          field="path", value=path)
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        raise RecordError(f"{where}: not a valid {kind} record ({_validation_message(exc)})",
                          field="path", value=path) from None


def parse_trajectory(obj: dict[str, Any], *, path: str) -> dict[str, Any]:
    """Check the structure of a trajectory JSON (``attnscope trajectory --out``) and return it."""
    models = obj.get("models")
    if not isinstance(models, list) or not models:
        raise RecordError("trajectory JSON without models", field="path", value=path)
    for i, m in enumerate(models):
        ext = m.get("extraction") if isinstance(m, dict) else None
        if not isinstance(ext, dict) or not isinstance(ext.get("rows"), dict) or "label" not in m:
            raise RecordError(f"trajectory JSON: models[{i}] lacks label/extraction.rows", field="path", value=path)
        if not isinstance(m.get("fits", {}), dict):
            raise RecordError(f"trajectory JSON: models[{i}].fits is not an object", field="path", value=path)
    return obj


def _looks_like_trajectory(obj: dict[str, Any]) -> bool:
    return all(k in obj for k in TRAJECTORY_KEYS) and "kind" not in obj


def _load_file(path: Path, label: str, bundle: Bundle, *, context: Optional[int]) -> None:
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RecordError("not a UTF-8 text file: unknown input kind", field="path", value=label) from None
    if not text.strip():
        raise RecordError("empty file: no records", field="path", value=label)
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        if "kind" in whole:
            rec = parse_record(whole, where="the record", path=label)
            bundle.add_record(rec)
            bundle.inputs.append(InputInfo(label, "records", sha, 1, f"one {rec.kind} record"))
            return
        if _looks_like_trajectory(whole):
            bundle.trajectories.append(parse_trajectory(whole, path=label))
            bundle.inputs.append(InputInfo(label, "trajectory", sha, len(whole["models"]),
                                           f"trajectory of {len(whole['models'])} model(s)"))
            return
        if any(k in whole for k in CONFIG_HINT_KEYS):
            _load_model(str(path), label, bundle, context=context, sha=sha)
            return
        raise RecordError("unknown input kind: a JSON object that is neither a record (no 'kind'), a trajectory "
                          "JSON nor a config.json", field="path", value=label)
    if isinstance(whole, list):
        items = [parse_record(o, where=f"item {i}", path=label) for i, o in enumerate(whole)]
    elif whole is not None:
        raise RecordError("unknown input kind: JSON that is not an object", field="path", value=label)
    else:
        from attnscope.io import read_jsonl

        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        if not first.lstrip().startswith("{"):
            raise RecordError("unknown input kind: neither JSON, JSONL records nor a model source",
                              field="path", value=label)
        objs = list(read_jsonl(path))  # every line must be JSON before any is validated as a record
        items = [parse_record(o, where=f"record {i + 1}", path=label) for i, o in enumerate(objs)]
    if not items:
        raise RecordError("no records in the file", field="path", value=label)
    for rec in items:
        bundle.add_record(rec)
    kinds = sorted({r.kind for r in items})
    bundle.inputs.append(InputInfo(label, "records", sha, len(items), f"{len(items)} record(s): {', '.join(kinds)}"))


def _load_model(source: str, label: str, bundle: Bundle, *, context: Optional[int], sha: Optional[str]) -> None:
    from attnscope.card import card

    c = card(source, context=context)
    bundle.cards.append(c)
    sha = sha or c.arch.get("config_sha256")
    bundle.inputs.append(InputInfo(label, "model", sha, 1, f"TAF card of {c.model} ({c.arch.get('source')})"))


def load_inputs(inputs: list[str], *, context: Optional[int] = None) -> Bundle:
    """Load every INPUT (detected by content) into one :class:`Bundle`.

    Parameters
    ----------
    inputs : list of str
        Paths (results JSONL, record / trajectory JSON, config.json, model folder) or model
        names (preset, bundled model, hub id).
    context : int, optional
        Context (tokens) for the cards' predictions (default: each model's T_train).

    Raises
    ------
    RecordError
        A malformed file or an unknown file kind. ModelSourceError / ConfigError for a model
        source that cannot be resolved.
    """
    if not inputs:
        raise RecordError("give at least one INPUT", field="inputs", value=inputs)
    bundle = Bundle()
    for inp in inputs:
        p = Path(inp)
        if p.is_file():
            _load_file(p, inp, bundle, context=context)
        elif p.is_dir():
            _load_model(inp, inp, bundle, context=context, sha=None)
        elif p.suffix.lower() in (".json", ".jsonl"):
            raise RecordError("no such file", field="path", value=inp)
        else:
            _load_model(inp, inp, bundle, context=context, sha=None)
    return bundle
