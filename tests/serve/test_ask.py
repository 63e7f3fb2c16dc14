"""The deterministic Ask parser: a table of phrasings -> the call it makes, and clear refusals."""
from __future__ import annotations

import pytest

from attnscope.errors import ConfigError, ModelSourceError
from attnscope.serve.ask import parse_question

# question -> (action, recipe, model, expected params (subset))
PHRASINGS = [
    ("Will Llama-3-8B serve 32K context?", "recipe", "X-2", "llama-3-8b", {"context": 32768}),
    ("Cheapest GPU to serve Llama-70B at 100M tokens/day?", "recipe", "X-5", "llama-3-70b", {"tokens_per_day": 1e8}),
    ("will llama 3 8b handle a context of 8192?", "recipe", "X-2", "llama-3-8b", {"context": 8192}),
    ("Can qwen2.5-7b do 128k tokens of context?", "recipe", "X-2", "qwen2.5-7b", {"context": 131072}),
    ("Will pythia-160m serve 2k context?", "recipe", "X-2", "pythia-160m", {"context": 2048}),
    ("Does meta-llama/Meta-Llama-3-8B support 1M context?", "recipe", "X-2", "llama-3-8b", {"context": 2**20}),
    ("Which GPU for Mistral-7B at 5e8 tokens per day, batch 16, 8192 context?", "recipe", "X-5", "mistral-7b",
     {"tokens_per_day": 5e8, "batch": 16, "context": 8192}),
    ("Cheapest way to serve qwen2.5-7b at 2 billion tokens a day on at most 4 GPUs", "recipe", "X-5", "qwen2.5-7b",
     {"tokens_per_day": 2e9, "max_gpus": 4}),
    ("Does Llama-3-8B fit in 24 GB at 8K context with batch 8 in nf4?", "fit", None, "llama-3-8b",
     {"context": 8192, "batch": 8, "dtype": "nf4"}),
    ("How much memory does gemma-2-9b-it need in int8?", "fit", None, "gemma-2-9b-it", {"dtype": "int8"}),
    ("What is the gamma of mistral-7b?", "card", None, "mistral-7b", {}),
    ("What regime is phi-2 in?", "card", None, "phi-2", {}),
    ("Should I self-host Llama-3-8B or use an API for 500M tokens per month?", "recipe", "X-1", "llama-3-8b",
     {"monthly_mtok": 500.0}),
    ("With a $20k budget on 8 H100-SXM GPUs, what can I train?", "recipe", "X-3", None,
     {"budget_usd": 20000.0, "n_gpus": 8, "gpu": "H100-SXM"}),
    ("What can I train for $5,000?", "recipe", "X-3", None, {"budget_usd": 5000.0}),
    ("Compress the KV cache of pythia-160m at 2000 tokens of context with gamma 0.748", "recipe", "X-19",
     "pythia-160m", {"context": 2000, "gamma": 0.748}),
    ("KV compression for llama-3-8b keeping 95% of the attention", "recipe", "X-19", "llama-3-8b", {"f": 0.95}),
    ("Is pythia-410m past induction-head formation? gamma_text 0.71, gamma_random 0.55", "recipe", "X-23",
     "pythia-410m", {"gamma_text": 0.71, "gamma_random": 0.55}),
    ("Imprint check for pythia-160m with gamma_random 0.62", "recipe", "X-21", "pythia-160m",
     {"gamma_random_obs": 0.62}),
    ("Is llama-3-8b inside the compute-context band with gamma 1.045?", "recipe", "X-22", "llama-3-8b",
     {"gamma": 1.045}),
    ("Will gpt2 serve 1024 context?", "recipe", "X-2", "gpt2", {"context": 1024}),
    ("Will GPT2-XL serve 1024 context?", "recipe", "X-2", "gpt2-xl", {"context": 1024}),
    ("Will phi-3 mini serve 4k context?", "recipe", "X-2", "phi-3-mini-4k-instruct", {"context": 4096}),
    ("Will tiny-theta300 serve 512 tokens of context?", "recipe", "X-2", "tiny-theta300", {"context": 512}),
    ("What is the gamma of tiny-main?", "card", None, "tiny-main", {}),
    # "tiny" is also a bundled family word: an ambiguous mention is skipped when a later one resolves
    ("Will a tiny model like Llama-3.2-1B serve 8k context?", "recipe", "X-2", "llama-3.2-1b", {"context": 8192}),
]


@pytest.mark.parametrize("question,action,recipe,model,params", PHRASINGS, ids=[p[0][:40] for p in PHRASINGS])
def test_phrasings(question, action, recipe, model, params):
    plan = parse_question(question)
    assert (plan.action, plan.recipe, plan.model) == (action, recipe, model)
    for k, v in params.items():
        assert plan.params[k] == pytest.approx(v) if isinstance(v, float) else plan.params[k] == v, k
    # every option it set is shown with the words it came from, as the user wrote them
    shown = {u.what: u for u in plan.understood}
    assert set(plan.params) <= set(shown)
    for k in plan.params:
        assert shown[k].from_text.lower() in question.lower()
    if model:
        assert shown["model"].from_text.lower() in question.lower()


def test_brief_examples_exact_calls():
    assert parse_question("Will Llama-3-8B serve 32K context?").call() == 'X-2(model="llama-3-8b", context=32768)'
    plan = parse_question("Cheapest GPU to serve Llama-70B at 100M tokens/day?")
    assert plan.call() == 'X-5(model="llama-3-70b", tokens_per_day=1e8)'
    assert plan.cli() == "attnscope recipe X-5 llama-3-70b -p tokens_per_day=1e8"


def test_defaults_are_listed_not_hidden():
    plan = parse_question("Cheapest GPU to serve Llama-70B at 100M tokens/day?")
    text = " ".join(plan.notes)
    assert "batch = 1" in text and "max_gpus = 8" in text and "T_train" in text
    assert "tokens_per_day" not in text  # it was given


def test_volume_is_not_a_context_and_model_size_is_not_a_context():
    plan = parse_question("Cheapest GPU to serve pythia-160m at 100M tokens/day?")
    assert "context" not in plan.params and plan.model == "pythia-160m"


@pytest.mark.parametrize("question,match", [
    ("Will Qwen 7B serve 32K context?", "ambiguous: matches qwen2.5-7b, qwen2-7b"),
    ("Will Llama-3-8B-Instruct serve 32K?", "unknown model"),
    ("Will Llama-9-1T serve 32K context?", "unknown model"),
    ("Will it serve 32K context?", "no model recognised"),
])
def test_unknown_or_ambiguous_model(question, match):
    with pytest.raises(ModelSourceError, match=match) as exc:
        parse_question(question)
    assert exc.value.field == "model"


@pytest.mark.parametrize("question,match", [("", "ask a question"), ("   ", "ask a question"),
                                            ("Hello there, how are you?", "no rule recognises"),
                                            ("x" * 501, "too long")])
def test_refusals(question, match):
    with pytest.raises(ConfigError, match=match) as exc:
        parse_question(question)
    assert exc.value.field == "question"


def test_recipe_without_model_ignores_a_mentioned_model():
    plan = parse_question("What can I train like llama-3-8b for $20k?")
    assert plan.recipe == "X-3" and plan.model is None
    assert any("needs no model" in n for n in plan.notes)


def test_deterministic():
    q = "Cheapest GPU to serve Llama-70B at 100M tokens/day at 8K context, batch 32?"
    assert parse_question(q) == parse_question(q)
