#!/usr/bin/env python3
"""Convert the published TAF measurements into attnscope's packaged reference panel.

Re-runnable: reads ``../shared/data/tafagent`` relative to the repository (or ``--src``),
writes ``src/attnscope/data/tafagent/`` (or ``--out``): records as JSONL, the manifest of
every raw file (converted / excluded with a reason), the conversion log and the NOTICE.

    python scripts/convert_tafagent.py [--src PATH] [--out PATH]

ArchSpecs come from the bundled presets (offline: HF_HUB_OFFLINE=1 is set unless given).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default=str(REPO.parent / "shared" / "data" / "tafagent"),
                    help="folder of the published data (default: ../shared/data/tafagent)")
    ap.add_argument("--out", default=str(REPO / "src" / "attnscope" / "data" / "tafagent"),
                    help="output folder (default: src/attnscope/data/tafagent)")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from attnscope.dataset.convert import convert_tafagent
    from attnscope.dataset.load import write_packaged
    from attnscope.errors import AttnscopeError

    try:
        conv = convert_tafagent(args.src)
    except AttnscopeError as exc:
        print(f"convert_tafagent: error: {exc.one_line()}", file=sys.stderr)
        return 2
    out = write_packaged(conv, args.out, src=args.src)
    n_ex = sum(m.disposition == "excluded" for m in conv.manifest)
    print(f"{len(conv.measurements)} measurement, {len(conv.gamma_fields)} gamma_field, "
          f"{len(conv.trajectories)} training_trajectory records; {len(conv.manifest)} files "
          f"({n_ex} excluded with a reason) -> {out}")
    for w in conv.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
