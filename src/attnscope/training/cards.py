"""``card.json`` (machine-readable) and ``MODEL_CARD.md`` (human-readable) for a tiny model."""
from __future__ import annotations

import json
from pathlib import Path

from attnscope.io import atomic_write_text

ATTRIBUTION = (
    "Training and validation text: the Python standard library's `pydoc_data.topics` "
    "(the language-reference topics shown by `help()`), part of the Python documentation, "
    "Copyright © Python Software Foundation, used under the PSF License Agreement (PSF-2.0)."
)


def write_cards(out: str | Path, card: dict) -> None:
    """Write ``card.json`` and ``MODEL_CARD.md`` into ``out`` atomically."""
    out = Path(out)
    atomic_write_text(out / "card.json", json.dumps(card, indent=2) + "\n")
    atomic_write_text(out / "MODEL_CARD.md", render_model_card(card))


def render_model_card(card: dict) -> str:
    """Markdown model card from a card.json dict."""
    c = card["config"]
    rows = "\n".join(
        f"| {p['step']} | {p['train_loss_nats']:.4f} | {p['val_loss_nats']:.4f} |" for p in card["curve"])
    gap = card["unigram_entropy_nats"] - card["val_loss_nats"]
    return f"""# {card['name']}

A tiny Llama-style causal language model (RoPE θ = {card['theta']:g}, context {card['context']} tokens)
trained by `attnscope train-tiny`. It exists to give attnscope's measurement code real, trained
attention to read on machines that cannot download pretrained weights. It is not a useful language model.

| | |
|---|---|
| architecture | `LlamaForCausalLM`, {c['layers']} layers, d_model {c['d_model']}, {c['heads']} heads ({c['kv_heads']} KV heads), SwiGLU {c['intermediate']}, tied embeddings |
| parameters | {card['params']:,} |
| RoPE | default, θ = {card['theta']:g} |
| context (training sequence length) | {card['context']} tokens, BOS first |
| tokenizer | byte-level BPE, vocab {c['vocab']}, trained on the training split; prepends `<|bos|>` (id 0) |
| data | {card['data']['train_tokens']:,} training tokens ({card['data']['train_chars']:,} chars), {card['data']['validation_tokens']:,} validation tokens (held-out topics) |
| training | {card['steps']} steps × batch {c['batch']} (= {card['tokens_seen']:,} tokens seen), AdamW lr {c['lr']:g} (warm-up {c['warmup']}, cosine to lr/10), weight decay {c['weight_decay']:g}, seed {card['seed']}, {card['threads']} CPU threads |
| wall time | {card['wall_s']:.0f} s |
| weights | stored as {card['weights_dtype']}; `config.json` says float32, so default loads compute in float32 |

## Loss (nats/token)

| quantity | value |
|---|---|
| validation loss (saved weights, {card['val_windows']} windows, {card['val_tokens_scored']:,} scored tokens) | **{card['val_loss_nats']:.4f}** |
| unigram cross-entropy of the same validation tokens under the (add-one) training unigram | {card['unigram_entropy_nats']:.4f} |
| gap (unigram − model) | {gap:.4f} |
| final training loss (mean of last {card['train_loss_final_window_steps']} steps) | {card['train_loss_final']:.4f} |

| step | train | validation |
|---|---|---|
{rows}

## Reproduce

```
{card['command'] or '(programmatic run: see card.json "config")'}
```

Bit-identical weights need the same seed, thread count and library versions
(recorded in `card.json`: {', '.join(f'{k} {v}' for k, v in card['versions'].items())}).

## Data and license

{ATTRIBUTION}
"""
