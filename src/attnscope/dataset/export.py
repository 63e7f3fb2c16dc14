"""Export the packaged panel as JSONL (records verbatim), CSV or Parquet (one flat row per record)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from attnscope.errors import ProtocolError
from attnscope.io import atomic_write_text

FORMATS = ("jsonl", "csv", "parquet")


def flat_row(rec) -> dict[str, Any]:
    """One flat dict per measurement record (curves and per-seed data as JSON strings)."""
    m = rec.measurement
    a = rec.arch or {}
    f = m.fit
    return {
        "key": rec.key, "model_id": rec.model_id, "family": a.get("family"), "rope_theta": a.get("rope_theta"),
        "n_params_M": a.get("n_params_M"), "corpus": m.corpus, "corpus_original_label": m.corpus_original_label,
        "protocol": m.protocol, "T_eval": m.T_eval, "gamma": m.gamma, "gamma_ci95_lo": m.gamma_ci95_lo,
        "gamma_ci95_hi": m.gamma_ci95_hi, "ci_method": m.ci_method, "log_A": f.log_A if f else None,
        "R2": f.R2 if f else None, "n_points": f.n_points if f else None, "d_min": f.d_min if f else None,
        "exp_lambda": f.exp_lambda if f else None, "exp_R2": f.exp_R2 if f else None,
        "delta_R2_power_minus_exp": f.delta_R2_power_minus_exp if f else None,
        "gamma_uniform": m.null.gamma_uniform if m.null else None, "excess": m.null.excess if m.null else None,
        "null_verdict": m.null.verdict if m.null else None, "gamma_pade": rec.predictions.gamma_pade,
        "n_prompts_per_distance": m.n_prompts_per_distance, "seeds": json.dumps(m.seeds),
        "distances": json.dumps(m.distances), "A": json.dumps(m.curve.A) if m.curve else None,
        "A_per_seed": json.dumps(m.curve.A_per_seed) if m.curve and m.curve.A_per_seed else None,
        "quality": ";".join(rec.quality), "source": rec.provenance.source,
    }


def export_panel(fmt: str, out: str | Path, *, kind: str = "measurement") -> Path:
    """Write the panel in ``fmt`` to ``out``. CSV/Parquet are for measurement records only."""
    from attnscope.dataset.load import load_panel

    if fmt not in FORMATS:
        raise ProtocolError(f"unknown format; choose one of {', '.join(FORMATS)}", field="format", value=fmt)
    recs = load_panel(kind)
    out = Path(out)
    if fmt == "jsonl":
        atomic_write_text(out, "".join(r.model_dump_json() + "\n" for r in recs))
        return out
    if kind != "measurement":
        raise ProtocolError("csv and parquet export flat measurement records only; use --format jsonl",
                            field="kind", value=kind)
    rows = [flat_row(r) for r in recs]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        atomic_write_text(out, buf.getvalue())
        return out
    from attnscope.errors import require_extra

    pa = require_extra("pyarrow", "parquet")
    pq = require_extra("pyarrow.parquet", "parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    pq.write_table(pa.Table.from_pylist(rows), tmp)
    tmp.replace(out)
    return out
