"""Every empirical constant of the theory, once, with its provenance.

Each constant is a frozen :class:`Constant` carrying its value, the number of
models/measurements it rests on (``n``), where it was published (``source``,
file and section of the TAF reference implementation ``karlesmarin/tafagent``
or the paper section it cites), a ``status`` and a ``note``. Functions that
use a constant carry it into their outputs (``Constant.to_dict()``), so a card
or recipe always says how solid each number is.

Status meanings
---------------
``validated``
    Replicated on the published panel re-audit (or an external, well-established
    result); applied by default.
``exploratory``
    Published, but rests on few models or did not replicate; reported, never
    applied silently (callers opt in, and outputs say so).
``disabled``
    Published but withdrawn (e.g. fitted on n = 1); kept only so outputs can
    say what the published tool would have applied.

Mathematical constants (√2, π, Euler's γ_E) are not empirical and are not here.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

Status = Literal["validated", "exploratory", "disabled"]

_TAF = "karlesmarin/tafagent python/taf_browser.py"


@dataclass(frozen=True)
class Constant:
    """One empirical constant with provenance.

    Attributes
    ----------
    name : str
        Registry key (upper snake case).
    value : float
        The number, in the unit stated in ``note``.
    n : int or None
        Number of models (or measurements) it was estimated on; ``None`` for an
        anchor or a convention that is not estimated.
    source : str
        Where it was published (repository file + section, or paper).
    status : {"validated", "exploratory", "disabled"}
    note : str
        Unit, caveats, re-audit results.
    """

    name: str
    value: float
    n: int | None
    source: str
    status: Status
    note: str

    def to_dict(self) -> dict:
        """JSON-ready dict of all fields."""
        return asdict(self)

    def __float__(self) -> float:
        return float(self.value)


def _c(name: str, value: float, n: int | None, source: str, status: Status, note: str) -> Constant:
    return Constant(name=name, value=float(value), n=n, source=source, status=status, note=note)


# --- imprint (γ on random tokens) -------------------------------------------------
NU_IMPRINT = _c(
    "NU_IMPRINT", -1.0 / (2.0 * math.pi), 22, f"{_TAF} §28.1 (NU_IMPRINT, gamma_random_predict)",
    "validated",
    "Slope of γ_random vs log10(P/P0), dimensionless; published as 'DERIVED, n=22, err 0.3%'. "
    "Status is the published one; attnscope's dataset scorecard re-checks it on the shipped panel.",
)
P0_IMPRINT = _c(
    "P0_IMPRINT", 14e6, None, f"{_TAF} §28.1 (P_0_IMPRINT_M = 14.0)", "validated",
    "Reference parameter count (pythia-14m, smallest panel model), in parameters. An anchor, not a fit.",
)
IMPRINT_CI95 = _c(
    "IMPRINT_CI95", 0.18, 22, f"{_TAF} §28.1-28.2 (imprint_purity ci_95_half_width)", "exploratory",
    "Published 95% half-width of γ_random around the imprint prediction; used as the purity band of X-21.",
)

# --- compute-context invariant K = γ·ln(N²·D) --------------------------------------
CHINCHILLA_TOKENS_PER_PARAM = _c(
    "CHINCHILLA_TOKENS_PER_PARAM", 20.0, None,
    "Hoffmann et al. 2022 (Chinchilla); " f"{_TAF} §17.30 / §29 (D = 20·N)", "validated",
    "Compute-optimal training tokens per parameter; the default D when the training token count is unknown.",
)
K_PANEL_MEAN = _c(
    "K_PANEL_MEAN", 51.2, 22, f"{_TAF} §29 (compute_invariant_K)", "exploratory",
    "Panel mean of K = γ·ln(N²·D) (nats·γ); published CV = 0.329.",
)
K_PANEL_STD = _c(
    "K_PANEL_STD", 16.8, 22, f"{_TAF} §29 (compute_invariant_K)", "exploratory",
    "Panel standard deviation of K; 'in band' means |z| ≤ 1.",
)

# --- induction-head (IH) phase ------------------------------------------------------
IH_THRESHOLD_PARAMS = _c(
    "IH_THRESHOLD_PARAMS", 4e8, 22, f"{_TAF} §30 (ih_phase_check; run_recipe_x23 'P ≥ 400M ⇒ post-IH')",
    "exploratory",
    "Parameter count at/above which a model is expected post-IH (7 pre-IH / 15 post-IH panel models).",
)
IH_DELTA_PRE_MEAN = _c(
    "IH_DELTA_PRE_MEAN", -0.19, 7, f"{_TAF} §30 (ih_phase_check)", "exploratory",
    "Panel mean of Δγ = γ_text − γ_random for P < 400M (std 0.26).",
)
IH_DELTA_POST_MEAN = _c(
    "IH_DELTA_POST_MEAN", 0.03, 15, f"{_TAF} §30 (ih_phase_check)", "exploratory",
    "Panel mean of Δγ for P ≥ 400M (std 0.26): the two groups overlap heavily.",
)
IH_DELTA_STD = _c(
    "IH_DELTA_STD", 0.26, 22, f"{_TAF} §30 (ih_phase_check)", "exploratory",
    "Panel std of Δγ within each IH group.",
)

# --- γ decomposition axes -----------------------------------------------------------
DELTA_GQA = _c(
    "DELTA_GQA", 0.11, 23, f"{_TAF} §26.10 gamma_decompose (n=23 OLS; calibration audit 2026-05-02)",
    "validated", "Shift of γ_text for grouped-query attention (n_kv < n_heads); re-audit group mean +0.115 "
    "(9 GQA / 13 MHA).",
)
DELTA_SWA = _c(
    "DELTA_SWA", -0.21, 1, f"{_TAF} §26.10 gamma_decompose (calibration audit 2026-05-02)", "disabled",
    "Sliding-window shift; originally fitted on a single model, re-audit group mean +0.355 (opposite sign). "
    "Never applied.",
)
DELTA_POST_IH = _c(
    "DELTA_POST_IH", -0.15, 22, f"{_TAF} §26.10 gamma_decompose (calibration audit 2026-05-02)",
    "exploratory", "Shift for models ≥ 400M params (post induction heads); does not replicate in the "
    "re-audit (group mean ≈ 0 on 16/6).",
)
DELTA_INSTRUCT = _c(
    "DELTA_INSTRUCT", -0.10, 3, f"{_TAF} §28.3 gamma_decompose_v2 (F9 tentative, p = 0.06)", "exploratory",
    "Shift for instruction-tuned / RLHF models; 3 base-vs-instruct pairs, p = 0.06.",
)

# --- regime and KV recipes ----------------------------------------------------------
HAGEDORN_WARNING_GAMMA = _c(
    "HAGEDORN_WARNING_GAMMA", 0.95, 25,
    f"{_TAF} §32.1 hagedorn_safety_alert, §32.2 bimodal_phase_class; cli/diagnose_model.py phase_label",
    "exploratory", "Lower edge of the Hagedorn-boundary warning band [0.95, 1); the panel's γ_text density "
    "has a gap at 0.85–0.95.",
)
SOFT_DECAY_APPLIES_RATIO = _c(
    "SOFT_DECAY_APPLIES_RATIO", 1.2, None, f"{_TAF} §26.8 kv_soft_decay_regime", "exploratory",
    "Soft KV decay applies when d_horizon / (T_train/2) ≥ this ratio.",
)
SOFT_DECAY_BORDERLINE_RATIO = _c(
    "SOFT_DECAY_BORDERLINE_RATIO", 0.8, None, f"{_TAF} §26.8 kv_soft_decay_regime", "exploratory",
    "Soft KV decay is borderline when d_horizon / (T_train/2) ≥ this ratio (and below the 'applies' ratio).",
)
L_NIAH_FACTOR = _c(
    "L_NIAH_FACTOR", 2.0, None, f"{_TAF} §26.5 l_niah_c", "exploratory",
    "Needle-in-a-haystack 50% length as a multiple of d_horizon (L_NIAH^c = 2·d_horizon).",
)
NTK_TARGET_GAMMA = _c(
    "NTK_TARGET_GAMMA", 0.85, None, f"{_TAF} §26.3-26.4 run_recipe_x2 mitigation (theta_design(0.85, T))",
    "exploratory", "Target γ the published X-2 recipe designs θ for when a context is out of reach.",
)
NTK_ZERO_SHOT_MAX_ALPHA = _c(
    "NTK_ZERO_SHOT_MAX_ALPHA", 8.0, None, f"{_TAF} §26.4 run_recipe_x2 ('fine-tuning required' if α_opt > 8)",
    "exploratory", "Above this base-scaling factor the published tool says fine-tuning is required.",
)

REGISTRY: dict[str, Constant] = {
    c.name: c
    for c in (
        NU_IMPRINT, P0_IMPRINT, IMPRINT_CI95, CHINCHILLA_TOKENS_PER_PARAM, K_PANEL_MEAN, K_PANEL_STD,
        IH_THRESHOLD_PARAMS, IH_DELTA_PRE_MEAN, IH_DELTA_POST_MEAN, IH_DELTA_STD,
        DELTA_GQA, DELTA_SWA, DELTA_POST_IH, DELTA_INSTRUCT,
        HAGEDORN_WARNING_GAMMA, SOFT_DECAY_APPLIES_RATIO, SOFT_DECAY_BORDERLINE_RATIO,
        L_NIAH_FACTOR, NTK_TARGET_GAMMA, NTK_ZERO_SHOT_MAX_ALPHA,
    )
}


def get_constant(name: str) -> Constant:
    """Look a constant up by name; raises :class:`attnscope.errors.DomainError` if unknown."""
    try:
        return REGISTRY[name]
    except KeyError:
        from attnscope.errors import DomainError

        raise DomainError(f"unknown constant; known: {', '.join(sorted(REGISTRY))}",
                          field="constant", value=name) from None
