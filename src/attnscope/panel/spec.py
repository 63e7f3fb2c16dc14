"""``panel.toml``: the models, corpora, precisions and protocol settings of a panel.

Parsed with :mod:`tomllib` and validated with pydantic (unknown keys are errors,
never ignored). Any problem becomes one :class:`attnscope.errors.ConfigError`
whose ``field`` is the offending key path (``models[1].source``,
``protocols[0].T``) and whose message names the file. Measurement settings are
validated by :func:`attnscope.measure.settings.make_settings` at load time, so a
bad ``T`` or corpus fails before any model is loaded.

Example
-------
::

    name = "tiny-panel"
    store = "panel-store"          # folder, relative to this file
    corpora = ["text", "random"]
    precisions = ["float32"]
    retries = 1

    [[models]]
    source = "tiny-theta300"

    [[protocols]]
    protocol = "rows"
    T = 128
    distances = [10, 20, 30, 50, 100]
    prompts = 4

    [executor]
    kind = "local"
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from attnscope.errors import ConfigError, MissingExtraError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ModelEntry(_Strict):
    """One model of the panel: a bundled name, a local folder or a hub id, at one revision."""

    source: str = Field(min_length=1, description="bundled model, preset/hub id or folder (./x: relative to the panel file)")
    revision: Optional[str] = Field(default=None, description="hub revision / checkpoint")
    random_init: bool = Field(default=False, description="same architecture, fresh weights (the falsifier)")
    trust_remote_code: bool = False
    load_in_4bit: bool = False
    device_map: Optional[Literal["auto"]] = None


class ProtocolEntry(_Strict):
    """One set of measurement settings (keywords of :func:`attnscope.measure.measure`)."""

    protocol: Literal["rows", "taf-e4"]
    label: Optional[str] = Field(default=None, min_length=1, description="name in tables; default: the protocol")
    T: Optional[int] = None
    distances: Optional[list[int]] = None
    prompts: Optional[int] = None
    seeds: Optional[list[int]] = None
    queries: Optional[int] = None
    d_min: Optional[int] = None
    n_boot: Optional[int] = None
    boot_seed: Optional[int] = None
    per_head: Optional[bool] = None
    text_file: Optional[str] = None

    @property
    def name(self) -> str:
        return self.label if self.label is not None else self.protocol

    def measure_kwargs(self, base: Path) -> dict[str, Any]:
        """The keywords given (unset ones are left to :func:`measure`'s documented defaults)."""
        kw = self.model_dump(exclude={"label"}, exclude_none=True)
        if "text_file" in kw:
            kw["text_file"] = str(resolve_path(kw["text_file"], base))
        return kw


class ExecutorEntry(_Strict):
    """How to run the jobs (the command line overrides each field)."""

    kind: Literal["local", "ray"] = "local"
    devices: Optional[list[Union[int, str]]] = Field(
        default=None, description="local: one process per device (CUDA_VISIBLE_DEVICES), e.g. [0, 1] or [\"0\", \"1\"]")
    address: Optional[str] = Field(default=None, description="ray: address of an existing cluster; default: start a local one")
    num_cpus: Optional[int] = Field(default=None, ge=1, description="ray: CPUs of the local instance it starts")
    gpus_per_job: Optional[float] = Field(default=None, ge=0, description="ray: num_gpus of each task")
    cpus_per_job: float = Field(default=1.0, gt=0, description="ray: num_cpus of each task")


class PanelSpec(_Strict):
    """A validated panel file. Paths are resolved relative to ``base`` (the file's folder)."""

    name: str = Field(min_length=1)
    store: str = Field(min_length=1, description="result store folder (relative to the panel file)")
    models: list[ModelEntry] = Field(min_length=1)
    protocols: list[ProtocolEntry] = Field(min_length=1)
    corpora: list[Literal["text", "random"]] = Field(min_length=1)
    precisions: list[Literal["float32", "bfloat16", "float16"]] = Field(min_length=1)
    retries: int = Field(default=1, ge=0, description="extra attempts for a failed job within one run")
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    torch_threads: Optional[int] = Field(default=None, ge=1, description="torch.set_num_threads in each job")
    parquet: bool = Field(default=False, description="also export records.parquet after a run (parquet extra)")
    executor: ExecutorEntry = Field(default_factory=ExecutorEntry)
    base: Path = Field(default=Path("."), exclude=True, description="folder of the panel file")
    path: Optional[Path] = Field(default=None, exclude=True)

    @property
    def store_path(self) -> Path:
        return resolve_path(self.store, self.base)

    def model_source(self, entry: ModelEntry) -> str:
        """The source to load: ``./x`` and ``../x`` are relative to the panel file."""
        s = entry.source
        return str(resolve_path(s, self.base)) if s.startswith(("./", "../")) else s


def resolve_path(p: str, base: Path) -> Path:
    q = Path(p).expanduser()
    return q if q.is_absolute() else (base / q)


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "panel"


def _trim(data: Any, loc: tuple) -> tuple:
    """Drop the union tags pydantic appends after the offending value (``devices[0].int`` -> ``devices[0]``)."""
    for i, part in enumerate(loc):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return loc if isinstance(data, (dict, list)) else loc[:i]
    return loc


def _lookup(data: Any, loc: tuple) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def parse_panel(data: dict[str, Any], *, path: Optional[Path] = None) -> PanelSpec:
    """Validate a parsed panel mapping; raise one ConfigError naming the first bad key."""
    where = f"panel file {str(path)!r}" if path is not None else "panel"
    base = path.parent if path is not None else Path(".")
    for internal in ("base", "path"):  # set from the file's location, never from its contents
        if internal in data:
            raise ConfigError(f"unknown key (check the spelling) in {where}", field=internal, value=data[internal])
    try:
        spec = PanelSpec.model_validate({**data, "base": base, "path": path})
    except ValidationError as exc:
        errors = exc.errors()  # a misspelt key also makes the right one "missing": report the misspelling
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = _trim(data, tuple(err["loc"])) if err["type"] != "missing" else tuple(err["loc"])
        kind = err["type"]
        msg = "unknown key (check the spelling)" if kind == "extra_forbidden" else (
            "required key is missing" if kind == "missing" else err["msg"])
        value = _lookup(data, loc) if kind != "missing" else None
        raise ConfigError(f"{msg} in {where}", field=_loc(loc), value=value) from None
    _check_settings(spec, where)
    return spec


def _check_settings(spec: PanelSpec, where: str) -> None:
    from attnscope.panel.jobs import expand_jobs

    labels = [p.name for p in spec.protocols]
    for i, p in enumerate(spec.protocols):
        if p.name in labels[:i]:
            raise ConfigError(f"two protocols share this label in {where}; give each a distinct 'label'",
                              field=f"protocols[{i}].label", value=p.name)
    expand_jobs(spec, where=where)  # measure's own validation of every setting, and no duplicate jobs


def _toml():
    """:mod:`tomllib` (Python >= 3.11) or its backport ``tomli`` (Python 3.10)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise MissingExtraError("reading panel.toml on Python 3.10 needs tomli: pip install tomli",
                                    field="module", value="tomli") from None
    return tomllib


def load_panel(path: str | Path) -> PanelSpec:
    """Read and validate a ``panel.toml`` file.

    Raises
    ------
    ConfigError
        Missing file, invalid TOML, an unknown or mistyped key, a bad measurement
        setting or a duplicated job; ``field`` names the key.
    """
    tomllib = _toml()
    p = Path(path)
    if not p.is_file():
        raise ConfigError("no such panel file", field="panel", value=str(path))
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML ({exc})", field="panel", value=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", field="panel", value=str(path)) from None
    return parse_panel(data, path=p.resolve())
