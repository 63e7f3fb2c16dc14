"""Render the report: inputs -> sections -> one self-contained HTML page.

- :func:`render_report` (``attnscope report``): INPUT paths / model names -> HTML text.
- :func:`render_bundle`: already loaded records -> HTML text.
- :func:`build_sections` and :func:`render_section`: the pieces, for pages that show one
  section at a time (``attnscope serve``).

The page has no external resources: CSS is inlined, figures are inline SVG, no scripts.
"""
from __future__ import annotations

import datetime as _dt
from collections import OrderedDict
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from attnscope.errors import RecordError
from attnscope.report import fmt
from attnscope.report.inputs import Bundle, load_inputs
from attnscope.report.sections import (
    Section, card_section, gamma_field_section, measurement_section, overlay_section, training_section,
)
from attnscope.report.sections_more import atlas_section, inputs_section, panel_section, trajectory_sections

TEMPLATES = Path(__file__).parent / "templates"
GROUPS = OrderedDict([("summary", "At a glance"), ("card", "TAF card"), ("decay", "Attention decay"),
                      ("training", "Training"), ("atlas", "Head atlas"), ("trajectory", "Depth trajectories"),
                      ("panel", "Reference panel"), ("inputs", "Inputs")])
PanelArg = Union[bool, Sequence[Any]]
MAX_OVERLAY = 8  # A(d) curves in one overlay figure

_ENV = None


def environment():
    """The jinja2 environment (autoescaping, report filters), built once."""
    global _ENV
    if _ENV is None:
        import jinja2

        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                                 undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        env.filters.update(num=fmt.num, ci=fmt.ci, pair=fmt.pair, tokens=fmt.tokens, pct=fmt.pct,
                           badge_class=fmt.badge_class, pretty=_pretty)
        _ENV = env
    return _ENV


def _pretty(v: Any) -> str:
    """Provenance values: dicts/lists as compact JSON, floats with 6 significant digits."""
    import json

    if v is None:
        return fmt.DASH
    if isinstance(v, float):
        return fmt.num(v, 6)
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, ensure_ascii=False, default=str, sort_keys=isinstance(v, dict))
    return str(v)


def _cards_from_records(bundle: Bundle) -> list[str]:
    """A card for each measured model that has none yet, from the record's stored arch (config-only)."""
    from pydantic import ValidationError

    from attnscope.arch import ArchSpec
    from attnscope.card import card
    from attnscope.errors import AttnscopeError

    notes = []
    have = {c.arch.get("config_sha256") for c in bundle.cards} | {c.model for c in bundle.cards}
    for rec in [*bundle.measurements, *bundle.atlases]:
        arch = rec.arch or {}
        if not arch or arch.get("config_sha256") in have or rec.model_id in have:
            continue
        have |= {arch.get("config_sha256"), rec.model_id}
        try:
            bundle.cards.append(card(ArchSpec.model_validate(arch)))
            notes.append(f"TAF card of {rec.model_id} built from the arch stored in its record "
                         f"(config sha256 {str(arch.get('config_sha256'))[:12]}…)")
        except (ValidationError, AttnscopeError) as exc:
            notes.append(f"no TAF card for {rec.model_id}: its stored arch does not parse ({str(exc).splitlines()[0]})")
    return notes


def _summary(bundle: Bundle) -> Section:
    rows = []
    for c in bundle.cards:
        p = c.predictions
        rows.append(dict(what="prediction", model=c.model, quantity="γ_Padé", value=fmt.num(p.get("gamma_pade")),
                         verdict=p.get("regime") or "", note=(p.get("null_reasons") or {}).get("gamma_pade", "")))
    for r in bundle.measurements:
        m = r.measurement
        rows.append(dict(what=f"measured ({m.corpus}{', random init' if m.random_init else ''})", model=r.model_id,
                         quantity="γ", value=fmt.ci(m.gamma, m.gamma_ci95_lo, m.gamma_ci95_hi),
                         verdict=m.null.verdict if m.null else "no null"))
    for a in bundle.atlases:
        ovs = [sp.overlap for la in a.layers for sp in la.spaces if sp.overlap is not None and sp.space == "residual"]
        above = sum("above" in o.verdict for o in ovs)
        rows.append(dict(what="head atlas", model=a.model_id, quantity="residual overlap above null",
                         value=f"{above} of {len(ovs)} layers", verdict=""))
    for g in bundle.gamma_fields:
        rows.append(dict(what="γ field" + (f" @ {g.revision}" if g.revision else ""), model=g.model_id,
                         quantity="γ of the head-averaged curve", value=fmt.num(g.gamma_global_fit),
                         verdict=""))
    for t in bundle.training:
        cps = sorted(t.checkpoints, key=lambda c: c.step)
        if not cps:
            continue
        rows.append(dict(what="training", model=t.model_id, quantity=f"γ from step {cps[0].step} to {cps[-1].step}",
                         value=f"{fmt.num(cps[0].gamma)} → {fmt.num(cps[-1].gamma)}", verdict=""))
    for tr in bundle.trajectories:
        for m in tr["models"]:
            n_fit = sum(1 for by in (m.get("fits") or {}).values() for sel in by.values() if sel.get("selected"))
            n_all = sum(len(by) for by in (m.get("fits") or {}).values())
            rows.append(dict(what="depth trajectory", model=m["label"], quantity="rows with a selected form",
                             value=f"{n_fit} of {n_all}", verdict=""))
    return Section(id="summary", title="At a glance", template="summary.html.j2", group="summary", ctx=dict(rows=rows))


def build_sections(bundle: Bundle, *, panel: PanelArg = True, cards_from_records: bool = True) -> list[Section]:
    """All sections of a report, in display order.

    Parameters
    ----------
    bundle : Bundle
        Loaded inputs (:func:`attnscope.report.inputs.load_inputs`).
    panel : bool or sequence of MeasurementRecord
        True: place the models on the packaged reference panel; False: no panel section;
        a sequence: use these records as the panel.
    cards_from_records : bool
        Add a TAF card for measured models from the arch stored in their records.
    """
    from attnscope.report.panel import load_reference_panel, panel_view

    notes = _cards_from_records(bundle) if cards_from_records else []
    secs: list[Section] = [_summary(bundle)]
    secs += [card_section(c, i) for i, c in enumerate(bundle.cards)]
    if 1 < len(bundle.measurements) <= MAX_OVERLAY:
        secs.append(overlay_section(bundle.measurements))
    elif len(bundle.measurements) > MAX_OVERLAY:
        notes.append(f"{len(bundle.measurements)} measurement records: no overlay figure (more than {MAX_OVERLAY} "
                     "curves are unreadable in one plot); each record has its own section")
    secs += [measurement_section(r, i) for i, r in enumerate(bundle.measurements)]
    secs += [gamma_field_section(r, i) for i, r in enumerate(bundle.gamma_fields)]
    secs += [training_section(r, i) for i, r in enumerate(bundle.training)]
    secs += [atlas_section(r, i) for i, r in enumerate(bundle.atlases)]
    for i, t in enumerate(bundle.trajectories):
        try:
            secs += trajectory_sections(t, i)
        except (KeyError, TypeError, IndexError, AttributeError) as exc:  # a hand-edited or foreign JSON
            raise RecordError(f"trajectory JSON {i + 1} is malformed ({type(exc).__name__}: {exc})",
                              field="trajectory", value=t.get("key")) from None
    if panel is not False:
        if panel is True:
            records, note, is_clean = load_reference_panel()
            if note:
                bundle.warnings.append(note)
        else:
            records, note, is_clean = list(panel), None, None
        secs.append(panel_section(panel_view(records, note=note, is_clean=is_clean), bundle))
    secs.append(inputs_section(bundle, notes))
    return secs


def sections_for(obj: Any, idx: int = 0) -> list[Section]:
    """The section(s) of one object: a Card, a record of any kind, or a trajectory JSON dict.

    For pages that show one thing (``attnscope serve``); ``idx`` keeps anchor ids unique on a page.
    """
    from attnscope.card import Card
    from attnscope.records import AtlasRecord, GammaFieldRecord, MeasurementRecord, TrainingTrajectoryRecord

    if isinstance(obj, Card):
        return [card_section(obj, idx)]
    if isinstance(obj, MeasurementRecord):
        return [measurement_section(obj, idx)]
    if isinstance(obj, GammaFieldRecord):
        return [gamma_field_section(obj, idx)]
    if isinstance(obj, TrainingTrajectoryRecord):
        return [training_section(obj, idx)]
    if isinstance(obj, AtlasRecord):
        return [atlas_section(obj, idx)]
    if isinstance(obj, dict) and "models" in obj:
        return trajectory_sections(obj, idx)
    raise RecordError(f"no report section for a {type(obj).__name__}", field="object", value=type(obj).__name__)


def render_section(section: Section) -> str:
    """One section as an HTML fragment (``<section id=...>…</section>``)."""
    return environment().get_template(section.template).render(s=section, **section.ctx)


def stylesheet() -> str:
    """The report's CSS (inlined by :func:`render_page`; web pages serving single sections need it too)."""
    return environment().get_template("style.css.j2").render()


def render_page(sections: list[Section], *, title: str, subtitle: str = "") -> str:
    """The full page: inline CSS, sticky table of contents, every section."""
    import attnscope

    toc: "OrderedDict[str, list[Section]]" = OrderedDict()
    for s in sections:
        toc.setdefault(s.group, []).append(s)
    body = [render_section(s) for s in sections]
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return environment().get_template("base.html.j2").render(
        title=title, subtitle=subtitle, toc=toc, groups=GROUPS, body=body, generated=now,
        version=getattr(attnscope, "__version__", "?"))


def page_title(bundle: Bundle) -> str:
    """Default page title: the models' names (at most four, then a count)."""
    names = list(dict.fromkeys([c.model for c in bundle.cards] + [r.model_id for r in bundle.measurements]
                               + [r.model_id for r in bundle.atlases] + [r.model_id for r in bundle.gamma_fields]
                               + [m["label"] for t in bundle.trajectories for m in t["models"]]))
    return "attnscope report: " + (", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
                                   if names else "(empty)")


def render_bundle(bundle: Bundle, *, panel: PanelArg = True, title: Optional[str] = None) -> str:
    """HTML text of the report of already loaded inputs."""
    sections = build_sections(bundle, panel=panel)
    return render_page(sections, title=title or page_title(bundle),
                       subtitle=f"{len(bundle.inputs)} input(s): " + ", ".join(i.label for i in bundle.inputs))


def render_report(inputs: Sequence[str], *, panel: PanelArg = True, context: Optional[int] = None,
                  title: Optional[str] = None) -> str:
    """HTML text of the report of INPUTs (paths or model names; kinds detected by content).

    Parameters
    ----------
    inputs : sequence of str
        Results JSONL, record / trajectory JSON, config.json, model folder, preset, bundled model or hub id.
    panel : bool or sequence of MeasurementRecord
        Place the models on the packaged reference panel (True), not at all (False), or on these records.
    context : int, optional
        Context (tokens) for the TAF cards (default: each model's T_train).
    title : str, optional
        Page title (default: from the model names).

    Raises
    ------
    RecordError, ModelSourceError, ConfigError
        Malformed or unknown inputs (one line each; the CLI exits 2).
    """
    return render_bundle(load_inputs(list(inputs), context=context), panel=panel, title=title)
