"""γ decomposition: γ_Padé plus architecture / circuit / training axes, each with its status.

TAF §26.10 and §28.3 (karlesmarin/tafagent ``python/taf_browser.py``
``gamma_decompose`` / ``gamma_decompose_v2``, calibration audit 2026-05-02):

    γ_obs ≈ γ_Padé + δ_imprint·[corpus = random] + δ_GQA·[GQA] + δ_SWA·[SWA]
            + δ_post-IH·[P ≥ 400M] + δ_instruct·[instruct]

Axis constants and status (constants.py): GQA +0.11 validated; imprint ν·log10(P/14M)
validated (random-token corpus only); post-IH −0.15 exploratory (no replication);
instruct −0.10 exploratory (n = 3); SWA −0.21 disabled (fitted on n = 1).

Difference from the published code: it adds exploratory terms into a single
"γ_corrected". Here ``gamma_validated`` adds only validated terms and
``gamma_with_exploratory`` also the exploratory ones; disabled terms are listed
(with the value the published tool once applied) but never added.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from attnscope.errors import DomainError
from attnscope.theory import _validate as v
from attnscope.theory.constants import (
    DELTA_GQA,
    DELTA_INSTRUCT,
    DELTA_POST_IH,
    DELTA_SWA,
    IH_THRESHOLD_PARAMS,
    NU_IMPRINT,
    P0_IMPRINT,
    Constant,
)


@dataclass(frozen=True)
class Term:
    """One axis of the decomposition.

    Attributes
    ----------
    axis : {"imprint", "gqa", "swa", "induction_head", "instruct"}
    applies : bool
        Whether the model has the feature (GQA, SWA, P ≥ 400M, instruct, random corpus).
    delta : float
        Shift the axis contributes if it applies (0 otherwise), before status filtering.
    status : {"validated", "exploratory", "disabled"}
    included_in_validated : bool
    included_in_exploratory : bool
    constant : Constant
    """

    axis: str
    applies: bool
    delta: float
    status: str
    included_in_validated: bool
    included_in_exploratory: bool
    constant: Constant


@dataclass(frozen=True)
class Decomposition:
    """Result of :func:`gamma_decompose`.

    Attributes
    ----------
    gamma_pade : float
    corpus : {"text", "random"}
    terms : tuple of Term
    gamma_validated : float
        γ_Padé + applicable validated terms.
    gamma_with_exploratory : float
        γ_validated + applicable exploratory terms (what the published tool reports,
        minus its withdrawn SWA term).
    warnings : tuple of str
    """

    gamma_pade: float
    corpus: str
    terms: tuple[Term, ...]
    gamma_validated: float
    gamma_with_exploratory: float
    warnings: tuple[str, ...]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["warnings"] = list(self.warnings)
        return d


def gamma_decompose(gamma_pade: float, *, has_gqa: bool, has_swa: bool, n_params: float,
                    is_instruct: bool, corpus: str = "text") -> Decomposition:
    """Decompose a predicted γ into its published axes.

    Parameters
    ----------
    gamma_pade : float
        γ_Padé(θ, T) (finite).
    has_gqa : bool
        n_kv_heads < n_heads (grouped-query or multi-query attention).
    has_swa : bool
        Any sliding-window layer.
    n_params : float
        Parameter count (absolute, > 0); decides the induction-head axis (≥ 400M) and the imprint.
    is_instruct : bool
        Instruction-tuned / RLHF model.
    corpus : {"text", "random"}, default "text"
        Which γ is being predicted: on natural text, or on random tokens (imprint axis on).
    """
    g = v.real("gamma_pade", gamma_pade)
    p = v.positive("n_params", n_params)
    for name, flag in (("has_gqa", has_gqa), ("has_swa", has_swa), ("is_instruct", is_instruct)):
        if not isinstance(flag, bool):
            raise DomainError("must be a bool", field=name, value=flag)
    if corpus not in ("text", "random"):
        raise DomainError("must be 'text' or 'random'", field="corpus", value=corpus)

    imprint_delta = NU_IMPRINT.value * math.log10(p / P0_IMPRINT.value)
    raw = (
        ("imprint", corpus == "random", imprint_delta, NU_IMPRINT),
        ("gqa", has_gqa, DELTA_GQA.value, DELTA_GQA),
        ("swa", has_swa, DELTA_SWA.value, DELTA_SWA),
        ("induction_head", p >= IH_THRESHOLD_PARAMS.value, DELTA_POST_IH.value, DELTA_POST_IH),
        ("instruct", is_instruct, DELTA_INSTRUCT.value, DELTA_INSTRUCT),
    )
    terms = []
    g_val = g
    g_exp = g
    warnings: list[str] = []
    for axis, applies, delta, const in raw:
        d = delta if applies else 0.0
        in_val = applies and const.status == "validated"
        in_exp = applies and const.status in ("validated", "exploratory")
        if in_val:
            g_val += d
        if in_exp:
            g_exp += d
        if applies and const.status == "disabled":
            warnings.append(f"{axis} axis disabled ({const.note}); the published tool applied {delta:+.2f}.")
        elif applies and const.status == "exploratory":
            warnings.append(f"{axis} axis is exploratory (n={const.n}); included only in gamma_with_exploratory.")
        terms.append(Term(axis=axis, applies=applies, delta=d, status=const.status,
                          included_in_validated=in_val, included_in_exploratory=in_exp, constant=const))
    return Decomposition(gamma_pade=g, corpus=corpus, terms=tuple(terms), gamma_validated=g_val,
                         gamma_with_exploratory=g_exp, warnings=tuple(warnings))
