"""Validated measurement settings and the content key that identifies a run."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from attnscope.errors import ProtocolError
from attnscope.measure.corpora import CORPORA, read_text_file
from attnscope.measure.protocols import DEFAULT_D_MIN, DEFAULT_QUERIES, PROTOCOLS

MEASURE_VERSION = "1"  # bump when the measurement changes in a way that invalidates stored records
DTYPES: tuple[str, ...] = ("float32", "bfloat16", "float16")
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda", "mps")
DEFAULT_SEEDS = (42, 123, 7)
# per seed: 18 prompts in total with the default seeds, which the held-out text holds at T = 512 for
# the bundled tiny-main tokenizer (20 chunks); raise it for real models (published design: 150)
DEFAULT_PROMPTS = 6
DEFAULT_N_BOOT = 1000
DEFAULT_T_CAP = {"rows": 2048, "taf-e4": 2050}  # default T = min(cap, model context)


@dataclass(frozen=True)
class MeasureSettings:
    """Every user choice of a measurement (T and distances may still be None = model default).

    See :func:`attnscope.measure.measure` for the meaning of each field.
    """

    corpus: str = "text"
    protocol: str = "rows"
    T: Optional[int] = None
    distances: Optional[tuple[int, ...]] = None
    prompts: int = DEFAULT_PROMPTS
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    dtype: str = "float32"
    device: str = "auto"
    per_head: bool = False
    random_init: bool = False
    text_file: Optional[str] = None
    revision: Optional[str] = None
    load_in_4bit: bool = False
    trust_remote_code: bool = False
    d_min: int = DEFAULT_D_MIN
    queries: int = DEFAULT_QUERIES
    n_boot: int = DEFAULT_N_BOOT
    boot_seed: int = 0
    text_file_sha256: Optional[str] = field(default=None, compare=False)
    device_map: Optional[str] = None

    def key_params(self) -> dict[str, Any]:
        """Inputs that change the output (device and trust_remote_code do not)."""
        d = asdict(self)
        for k in ("device", "trust_remote_code", "text_file", "device_map"):
            d.pop(k)
        d["measure_version"] = MEASURE_VERSION
        return d


def _int(name: str, v: Any, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ProtocolError(f"must be an integer >= {lo}", field=name, value=v)
    return v


def make_settings(*, corpus: str = "text", protocol: str = "rows", T: Optional[int] = None,
                  distances: Optional[Sequence[int]] = None, prompts: int = DEFAULT_PROMPTS,
                  seeds: Sequence[int] = DEFAULT_SEEDS, dtype: str = "float32", device: str = "auto",
                  per_head: bool = False, random_init: bool = False, text_file: Optional[str] = None,
                  revision: Optional[str] = None, load_in_4bit: bool = False, trust_remote_code: bool = False,
                  d_min: int = DEFAULT_D_MIN, queries: int = DEFAULT_QUERIES, n_boot: int = DEFAULT_N_BOOT,
                  boot_seed: int = 0, device_map: Optional[str] = None) -> MeasureSettings:
    """Validate the model-independent settings (fails before any model is loaded)."""
    if corpus not in CORPORA:
        raise ProtocolError(f"unknown corpus; choose one of {', '.join(CORPORA)}", field="corpus", value=corpus)
    if protocol not in PROTOCOLS:
        raise ProtocolError(f"unknown protocol; choose one of {', '.join(PROTOCOLS)}", field="protocol", value=protocol)
    if dtype not in DTYPES:
        raise ProtocolError(f"unknown dtype; choose one of {', '.join(DTYPES)}", field="dtype", value=dtype)
    if device not in DEVICES:
        raise ProtocolError(f"unknown device; choose one of {', '.join(DEVICES)}", field="device", value=device)
    seeds = tuple(int(s) for s in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ProtocolError("give one or more distinct seeds", field="seeds", value=list(seeds))
    _int("prompts", prompts, 1)
    if prompts * len(seeds) < 2:
        raise ProtocolError("need at least 2 prompts in total (prompts x seeds) for a bootstrap CI over prompts",
                            field="prompts", value=prompts)
    if T is not None:
        _int("T", T, 3)
    _int("d_min", d_min, 1)
    _int("queries", queries, 1)
    _int("n_boot", n_boot, 10)
    sha = None
    if text_file is not None:
        if corpus != "text":
            raise ProtocolError("--text-file needs --corpus text", field="text_file", value=text_file)
        sha = hashlib.sha256(read_text_file(text_file).encode()).hexdigest()
        text_file = str(Path(text_file))
    ds = tuple(int(x) for x in distances) if distances is not None else None
    return MeasureSettings(corpus, protocol, T, ds, prompts, seeds, dtype, device, bool(per_head),
                           bool(random_init), text_file, revision, bool(load_in_4bit), bool(trust_remote_code),
                           d_min, queries, n_boot, int(boot_seed), sha, device_map)


def weights_fingerprint(folder: Optional[Path]) -> list[dict[str, Any]]:
    """Cheap identity of the weight files: name, size and sha256 of the first and last 4 MiB.

    Small files (< 64 MiB) are hashed whole. A retrained model of the same size
    therefore gets a new key (resume never reuses a stale record).
    """
    if folder is None:
        return []
    out = []
    files = sorted([*folder.glob("*.safetensors"), *folder.glob("pytorch_model*.bin")])
    chunk = 4 << 20
    for f in files:
        size = f.stat().st_size
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            if size < 16 * chunk:
                h.update(fh.read())
            else:
                h.update(fh.read(chunk))
                fh.seek(size - chunk)
                h.update(fh.read(chunk))
        out.append({"file": f.name, "size": size, "sha256_ends": h.hexdigest()})
    return out
