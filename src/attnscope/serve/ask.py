"""Ask: a plain-English question -> one recipe call, by a deterministic parser (no model, no network).

:func:`parse_question` finds the *intent* (which recipe, or the card / fit commands) by an
ordered list of keyword rules, the *model* among the bundled presets and trained models,
and the *options* (context, tokens per day, batch, dtype, budget, GPUs, γ, ...) by regular
expressions. It returns an :class:`AskPlan` that lists what it understood and from which
words, so the page can show it; nothing is guessed silently (defaults are the recipe's own,
shown as such). Examples::

    "Will Llama-3-8B serve 32K context?"                 -> X-2(model="llama-3-8b", context=32768)
    "Cheapest GPU to serve Llama-70B at 100M tokens/day?" -> X-5(model="llama-3-70b", tokens_per_day=1e8)

Context sizes use binary K/M (32K = 32768 tokens, the usual meaning of "32K context");
volumes and budgets use decimal suffixes (100M tokens/day = 1e8, $20k = 20000).
No torch import.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from attnscope.errors import ConfigError, ModelSourceError

#: intents in priority order: (action, recipe id or None, regex on the lowercased question)
INTENTS: tuple[tuple[str, Optional[str], str], ...] = (
    ("recipe", "X-5", r"cheapest|which gpus?\b|what gpus?\b|how many gpus|tokens?\s*(?:/|per|a|each)\s*day|daily"),
    ("recipe", "X-1", r"\bapis?\b|self[- ]?host|per month|a month|monthly"),
    ("recipe", "X-3", r"budget|\$\s*\d|\busd\b|dollars|what (?:model )?can i train"),
    ("recipe", "X-19", r"compress|evict|kv window|soft decay|\bd_f\b"),
    ("recipe", "X-23", r"induction"),
    ("recipe", "X-21", r"imprint|random tokens|γ_?random|gamma_?random"),
    ("recipe", "X-22", r"compute[- –]context|\bband\b|invariant"),
    ("fit", None, r"\bfits?\b|memory|vram|\bgib\b|\d\s*gb\b|how much ram"),
    ("recipe", "X-2", r"context|serve\b|long[- ]range|retriev|needle|haystack|\b\d+(?:\.\d+)?\s*k\b"),
    ("card", None, r"γ|gamma|card|regime|horizon|decay|profile|predict|\btheta\b|θ|attend"),
)

_K = {"k": 2**10, "m": 2**20}  # context sizes: binary
_DEC = {"": 1.0, "k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9, "t": 1e12,
        "trillion": 1e12}
_NUM = r"(?<![\w.\-])(\d+(?:[.,]\d+)*(?:e[+-]?\d+)?)"
_DTYPES = {"bf16": "bf16", "bfloat16": "bf16", "fp16": "fp16", "float16": "fp16", "fp32": "fp32", "float32": "fp32",
           "int8": "int8", "8-bit": "int8", "8 bit": "int8", "8bit": "int8", "nf4": "nf4", "4-bit": "nf4",
           "4 bit": "nf4", "4bit": "nf4"}
#: words that may follow a model family in a mention ("llama 3 8b instruct")
_MODEL_WORDS = {"xl", "it", "instruct", "base", "hf", "mini", "nemo", "lite", "medium", "large", "chat", "4k",
                "v2", "v3", "code", "llm"}


@dataclass(frozen=True)
class Understood:
    """One thing the parser understood: what, its value, and the words it came from."""

    what: str
    value: Any
    from_text: str


@dataclass(frozen=True)
class AskPlan:
    """The parsed question: the call to make and everything understood on the way."""

    question: str
    action: str  # "recipe" | "card" | "fit"
    recipe: Optional[str]
    model: Optional[str]
    params: dict[str, Any]
    understood: list[Understood]
    notes: list[str] = field(default_factory=list)

    def call(self) -> str:
        """The equivalent call, e.g. ``X-2(model="llama-3-8b", context=32768)``."""
        args = ([f'model="{self.model}"'] if self.model else []) + [f"{k}={_show(v)}" for k, v in self.params.items()]
        head = self.recipe if self.action == "recipe" else self.action
        return f"{head}({', '.join(args)})"

    def cli(self) -> str:
        """The equivalent ``attnscope`` command line."""
        parts = ["attnscope"]
        if self.action == "recipe":
            parts += ["recipe", str(self.recipe)]
        else:
            parts.append(self.action)
        if self.model:
            parts.append(self.model)
        for k, v in self.params.items():
            if k == "context":
                parts += ["--context", str(v)]
            elif self.action == "fit":
                parts += [f"--{k.replace('_', '-')}", _show(v, quote=False)]
            else:
                parts += ["-p", f"{k}={_show(v, quote=False)}"]
        return " ".join(parts)


def _show(v: Any, *, quote: bool = True) -> str:
    if isinstance(v, float) and v >= 1e5 and v == int(v):
        return f"{v:.3g}".replace("+0", "").replace("+", "")
    return repr(v) if isinstance(v, str) and quote else str(v)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


# ----------------------------------------------------------------------------------------- models
def _tokens(s: str) -> list[str]:
    """Model-name tokens: 'Qwen2.5-7B' -> ['qwen', '2.5', '7b']; 'Meta-Llama-3-8B' -> ['meta', 'llama', '3', '8b']."""
    return re.findall(r"\d+(?:\.\d+)?[a-z]?|[a-z]+", s.lower())


@dataclass(frozen=True)
class _Known:
    name: str  # what the library resolves (preset or bundled model name)
    aliases: tuple[str, ...]  # lowercased exact spellings (name, HF id, HF id's last part)
    family_words: frozenset  # first alphabetic token of each alias
    tokens: frozenset


def known_models() -> list[_Known]:
    """Presets and bundled trained models the parser can recognise."""
    from attnscope.archparse.sources import models_dir, preset_index

    out = []
    for name, info in preset_index().items():
        hf = str(info.get("hf_id") or name)
        aliases = tuple(dict.fromkeys(a.lower() for a in (name, hf, hf.rsplit("/", 1)[-1])))
        out.append(_Known(name, aliases, frozenset(_first_alpha(a.rsplit("/", 1)[-1]) for a in aliases),
                          frozenset(t for a in aliases for t in _tokens(a.rsplit("/", 1)[-1]))))
    mdir = models_dir()
    if mdir.is_dir():
        for d in sorted(mdir.iterdir()):
            if (d / "config.json").is_file():
                out.append(_Known(d.name, (d.name.lower(),), frozenset([_first_alpha(d.name)]),
                                  frozenset(_tokens(d.name))))
    return out


def _first_alpha(s: str) -> str:
    return next((t for t in _tokens(s) if t.isalpha()), "")


def find_model(question: str, models: Optional[Iterable[_Known]] = None) -> tuple[Optional[str], Optional[str]]:
    """(model name, words it came from) for the model named in a question, or (None, None).

    Exact spellings (preset name, HF id) win, longest first; otherwise a mention such as
    "Llama-70B" (family word + version / size tokens) matches every model whose tokens
    include the mention's; a model whose tokens equal the mention's is preferred.

    Raises
    ------
    ModelSourceError
        The mention matches several models (it lists them), or names an unknown model.
    """
    models = list(known_models() if models is None else models)
    q = question.lower()
    exact = sorted(((a, m) for m in models for a in m.aliases), key=lambda am: -len(am[0]))
    for alias, m in exact:
        if re.search(rf"(?<![\w.\-/]){re.escape(alias)}(?![\w\-/]|\.\w)", q):
            return m.name, alias
    families = {f for m in models for f in m.family_words if f}
    first_error: Optional[ModelSourceError] = None
    toks = [(mt.group(0), mt.start(), mt.end()) for mt in re.finditer(r"\d+(?:\.\d+)?[a-z]?|[a-z]+", q)]
    for i, (tok, start, _) in enumerate(toks):
        if tok not in families:
            continue
        mention, end = [tok], toks[i][2]
        for tok2, s2, e2 in toks[i + 1:]:
            gap = q[end:s2]
            if gap.strip(" -_.") or len(gap) > 2:
                break
            if re.fullmatch(r"\d{1,2}(?:\.\d)?|\d+(?:\.\d+)?[mb]", tok2) or tok2 in _MODEL_WORDS:
                mention.append(tok2)
                end = e2
            else:
                break
        words = question[start:end]
        want = set(mention)
        hits = [m for m in models if tok in m.family_words and want <= m.tokens]
        if not hits:
            close = difflib.get_close_matches(words.lower(), [a for m in models for a in m.aliases], n=3, cutoff=0.5)
            first_error = first_error or ModelSourceError("unknown model: not a bundled preset or trained model"
                                   + (f"; did you mean {', '.join(close)}?" if close else
                                      "; `attnscope presets` lists the known ones"), field="model", value=words)
            continue
        exact_hits = [m for m in hits if any(set(_tokens(a.rsplit("/", 1)[-1])) == want for a in m.aliases)]
        hits = exact_hits or hits
        if len(hits) > 1:
            first_error = first_error or ModelSourceError(
                f"ambiguous: matches {', '.join(m.name for m in hits)}; name one of them", field="model", value=words)
            continue
        return hits[0].name, words
    if first_error is not None:
        raise first_error
    return None, None


# ---------------------------------------------------------------------------------------- options
def _context(q: str) -> Optional[tuple[int, str]]:
    pats = (rf"{_NUM}\s*([km])\b(?:\s*(?:tokens?|tok))?(?:\s*(?:of\s+)?(?:context|ctx|window|sequence|prompt))?",
            rf"{_NUM}\s*(?:tokens?\s+)?(?:of\s+)?(?:context|ctx)\b",
            rf"(?:context|ctx|sequences?|prompts?)\s*(?:of|length|=|:|at)?\s*{_NUM}\s*([km])?\b")
    for i, pat in enumerate(pats):
        for mt in re.finditer(pat, q):
            after = q[mt.end():mt.end() + 16]
            if i == 0 and re.match(r"\s*(?:tokens?\s*)?(?:/|per|a|each)\s*(?:day|month)", after):
                continue  # a volume, not a context
            if i == 0 and re.match(r"\s*(?:param|model)", after):
                continue
            if i == 0 and not re.search(r"context|ctx|window|sequence|prompt|serve|handle|support|tokens?|at|with",
                                        q[max(0, mt.start() - 24):mt.end() + 12]):
                continue
            n = _number(mt.group(1))
            unit = mt.group(2) if i != 1 and mt.lastindex and mt.lastindex >= 2 else None
            return int(round(n * _K[unit])) if unit else int(n), mt.group(0).strip()
    return None


def _volume(q: str, period: str) -> Optional[tuple[float, str]]:
    per = r"(?:/|per|a|each)\s*" + period
    mt = re.search(rf"{_NUM}\s*(thousand|million|billion|trillion|[kmbt])?\s*(?:tokens?|tok)?\s*{per}", q)
    if not mt:
        return None
    return _number(mt.group(1)) * _DEC[mt.group(2) or ""], mt.group(0).strip()


def _int_after(q: str, pat: str) -> Optional[tuple[int, str]]:
    mt = re.search(pat, q)
    if not mt:
        return None
    return int(_number(next(g for g in mt.groups() if g is not None))), mt.group(0).strip()


def _options(q: str, action: str, rid: Optional[str]) -> tuple[dict[str, Any], list[Understood]]:
    p: dict[str, Any] = {}
    und: list[Understood] = []

    def put(key: str, val: Any, words: str) -> None:
        p[key] = val
        und.append(Understood(key, val, words))

    if rid == "X-5" and (v := _volume(q, "day")):
        put("tokens_per_day", v[0], v[1])
    if rid == "X-1" and (v := _volume(q, "month")):
        put("monthly_mtok", v[0] / 1e6, v[1])
    if rid not in ("X-3", "X-23") and (c := _context(q)):
        put("context", c[0], c[1])
    if action == "fit" or rid in ("X-1", "X-2", "X-5"):
        if b := _int_after(q, r"batch(?:\s*size)?\s*(?:of|=|:)?\s*(\d+)|(\d+)\s*concurrent"):
            put("batch", b[0], b[1])
    if action == "fit" or rid in ("X-1", "X-2", "X-5", "X-19"):
        for word, dt in sorted(_DTYPES.items(), key=lambda kv: -len(kv[0])):
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", q):
                put("dtype", dt, word)
                break
    money = rf"\$\s*{_NUM}\s*(k|m|thousand|million)?|{_NUM}\s*(k|m)?\s*(?:usd|dollars)"
    if rid == "X-3" and (mt := re.search(money, q)):
        num, suf = (mt.group(1), mt.group(2)) if mt.group(1) else (mt.group(3), mt.group(4))
        put("budget_usd", _number(num) * _DEC[suf or ""], mt.group(0).strip())
    if rid in ("X-1", "X-3", "X-5"):
        if g := _int_after(q, r"(?:on|with|max(?:imum)?|up to|at most)\s+(\d+)\s*(?:x\s*)?(?:[a-z0-9-]+\s+)?gpus?\b"):
            put("max_gpus" if rid == "X-5" else "n_gpus", g[0], g[1])
        if rid != "X-5":
            from attnscope.recipes.prices import load_prices

            for gpu in sorted(load_prices(None).gpus, key=lambda g: -len(g.name)):
                if re.search(rf"(?<![\w-]){re.escape(gpu.name.lower())}(?![\w-])", q):
                    put("gpu", gpu.name, gpu.name.lower())
                    break
    if rid in ("X-19", "X-22") and (mt := re.search(rf"(?:γ|gamma)\s*(?:of|=|is|:)?\s*{_NUM}", q)):
        put("gamma", _number(mt.group(1)), mt.group(0))
    if rid == "X-19" and (mt := re.search(rf"(?:keep|keeping|f\s*=)\s*{_NUM}\s*(%)?", q)):
        f = _number(mt.group(1)) / (100.0 if mt.group(2) or _number(mt.group(1)) > 1 else 1.0)
        put("f", f, mt.group(0))
    if rid == "X-23":
        for key, pat in (("gamma_text", r"(?:γ|gamma)[_ ]?text\s*(?:of|=|is|:)?\s*"),
                         ("gamma_random", r"(?:γ|gamma)[_ ]?random\s*(?:of|=|is|:)?\s*")):
            if mt := re.search(pat + _NUM, q):
                put(key, _number(mt.group(1)), mt.group(0))
    if rid == "X-21" and (mt := re.search(rf"(?:γ|gamma)[_ ]?random\s*(?:of|=|is|:)?\s*{_NUM}", q)):
        put("gamma_random_obs", _number(mt.group(1)), mt.group(0))
    return p, und


# ---------------------------------------------------------------------------------------- parser
def parse_question(question: str, *, models: Optional[Iterable[_Known]] = None) -> AskPlan:
    """Parse a plain-English question into an :class:`AskPlan` (deterministic).

    Parameters
    ----------
    question : str
        E.g. "Will Llama-3-8B serve 32K context?". At most 500 characters.
    models : iterable, optional
        Recognisable models (default: :func:`known_models`).

    Raises
    ------
    ConfigError
        Empty or too long question, or no rule recognises what is asked (field ``question``).
    ModelSourceError
        The question names an unknown or ambiguous model, or none when the call needs one.
    """
    if not isinstance(question, str) or not question.strip():
        raise ConfigError("ask a question, e.g. 'Will Llama-3-8B serve 32K context?'", field="question", value=question)
    if len(question) > 500:
        raise ConfigError("too long (at most 500 characters)", field="question", value=question[:40] + "…")
    orig = " ".join(question.replace("’", "'").split())
    q = orig.lower()
    action = rid = None
    why = ""
    for act, r, pat in INTENTS:
        if mt := re.search(pat, q):
            action, rid, why = act, r, mt.group(0)
            break
    if action is None:
        raise ConfigError("no rule recognises this question; try 'Will <model> serve 32K context?', 'Cheapest GPU "
                          "to serve <model> at 100M tokens/day?', 'Does <model> fit in 24 GB at 8K context?' or "
                          "'What is the γ of <model>?'", field="question", value=question)
    model, words = find_model(q, models)
    und = [Understood("intent", rid if action == "recipe" else action, why)]
    notes: list[str] = []
    from attnscope.recipes import RECIPES

    needs_model = action != "recipe" or RECIPES[rid].needs_model
    if model is None and needs_model:
        raise ModelSourceError("no model recognised in the question; name a preset (e.g. llama-3-8b) or a bundled "
                               "trained model", field="model", value=None)
    if model is not None:
        if needs_model:
            und.append(Understood("model", model, words))
        else:
            notes.append(f"{rid} needs no model: '{words}' is ignored")
            model = None
    params, more = _options(q, action, rid)
    und += more
    if action == "recipe":
        given = set(params)
        for k, spec in RECIPES[rid].params.items():
            if k not in given and spec.default is not None:
                notes.append(f"{k} = {_show(spec.default)} (the recipe's default: {spec.help})")
        if "context" in RECIPES[rid].params and "context" not in given:
            notes.append("context: the model's training context T_train (not given in the question)")
    elif action == "fit" and "context" not in params:
        notes.append("context: the model's training context T_train (not given in the question)")
    if len(orig) == len(q):  # show the words as the user wrote them
        und = [Understood(u.what, u.value, _original(u.from_text, q, orig)) for u in und]
    return AskPlan(question=question, action=action, recipe=rid, model=model, params=params, understood=und,
                   notes=notes)


def _original(words: str, q: str, orig: str) -> str:
    i = q.find(words.lower())
    return orig[i:i + len(words)] if i >= 0 else words
