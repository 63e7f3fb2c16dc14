"""Train a tiny Llama-style RoPE causal LM on the stdlib prose corpus.

One function, :func:`train_tiny`: tokenizer → model → AdamW loop → save → reload
the SAVED weights → validation loss → ``card.json`` + ``MODEL_CARD.md``. The
result is an ordinary Hugging Face checkpoint (``LlamaForCausalLM``, safetensors,
``PreTrainedTokenizerFast``) that loads offline with the Auto classes.

Determinism: for a fixed :class:`TrainConfig` (seed included) and thread count,
the tokenizer, the initial weights (``torch.manual_seed(seed)``), the data order
(a ``torch.Generator`` seeded with ``seed``) and therefore the final weights are
identical run to run.
"""
from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from pathlib import Path
from typing import Callable

import torch

from attnscope.errors import DomainError

SAVE_DTYPES = ("float32", "float16")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Every input that changes the trained weights (all recorded in card.json).

    Attributes
    ----------
    theta : float
        RoPE base θ (> 0).
    context : int
        Training sequence length T in tokens, BOS included (>= 8).
    d_model, layers, heads, kv_heads : int
        Width, depth, query heads, key/value heads (heads % kv_heads == 0, d_model % heads == 0).
    intermediate : int
        SwiGLU hidden width.
    steps, batch : int
        Optimiser steps and sequences per step.
    lr : float
        Peak AdamW learning rate; linear warm-up over ``warmup`` steps, cosine to lr/10.
    weight_decay : float
        AdamW decoupled weight decay on matrices (not on norms).
    seed : int
        Seeds the initial weights and the data order.
    vocab : int
        BPE vocabulary size (tied input/output embeddings).
    eval_every : int
        Validation every this many steps (and at the end); 0 = only at the end.
    val_windows : int
        At most this many validation windows.
    save_dtype : {"float32", "float16"}
        Storage dtype of model.safetensors (config.json always says float32).
    """

    theta: float = 10000.0
    context: int = 256
    d_model: int = 128
    layers: int = 4
    heads: int = 4
    kv_heads: int = 4
    intermediate: int = 512
    steps: int = 400
    batch: int = 16
    lr: float = 3e-3
    weight_decay: float = 0.1
    warmup: int = 40
    seed: int = 0
    vocab: int = 2048
    eval_every: int = 50
    val_windows: int = 64
    save_dtype: str = "float16"

    def validate(self) -> "TrainConfig":
        """Raise :class:`DomainError` naming the first bad option; return self."""
        positive = ("context", "d_model", "layers", "heads", "kv_heads", "intermediate", "steps",
                    "batch", "vocab", "val_windows")
        if not (math.isfinite(self.theta) and self.theta > 0):
            raise DomainError("RoPE theta must be a finite number > 0", field="theta", value=self.theta)
        for name in positive:
            if getattr(self, name) <= 0:
                raise DomainError("must be > 0", field=name.replace("_", "-"), value=getattr(self, name))
        if self.context < 8:
            raise DomainError("context must be at least 8 tokens", field="context", value=self.context)
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise DomainError("learning rate must be > 0", field="lr", value=self.lr)
        if self.weight_decay < 0 or self.warmup < 0 or self.eval_every < 0 or self.seed < 0:
            bad = next(n for n in ("weight_decay", "warmup", "eval_every", "seed") if getattr(self, n) < 0)
            raise DomainError("must be >= 0", field=bad.replace("_", "-"), value=getattr(self, bad))
        if self.d_model % self.heads or (self.d_model // self.heads) % 2:
            raise DomainError(f"d_model must split into {self.heads} heads of even size",
                              field="d-model", value=self.d_model)
        if self.heads % self.kv_heads:
            raise DomainError(f"heads={self.heads} must be a multiple of kv-heads",
                              field="kv-heads", value=self.kv_heads)
        from attnscope.training.tokenizer import MIN_VOCAB

        if self.vocab < MIN_VOCAB:
            raise DomainError(f"vocabulary must be at least {MIN_VOCAB} (256 bytes + 2 specials)",
                              field="vocab", value=self.vocab)
        if self.save_dtype not in SAVE_DTYPES:
            raise DomainError(f"expected one of {SAVE_DTYPES}", field="save-dtype", value=self.save_dtype)
        return self


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What a run produced: the folder and the card.json content."""

    out: Path
    card: dict


def build_model(cfg: TrainConfig, *, bos_id: int, eos_id: int):
    """A freshly initialised ``LlamaForCausalLM`` for ``cfg`` (seed the RNG before calling)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=cfg.vocab, hidden_size=cfg.d_model, intermediate_size=cfg.intermediate,
        num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads,
        num_key_value_heads=cfg.kv_heads, max_position_embeddings=cfg.context,
        rope_parameters={"rope_type": "default", "rope_theta": float(cfg.theta)},
        tie_word_embeddings=True, bos_token_id=bos_id, eos_token_id=eos_id, pad_token_id=None,
    )
    return LlamaForCausalLM(config)


def _lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to cfg.lr, then cosine decay to cfg.lr / 10 at the last step."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    span = max(1, cfg.steps - cfg.warmup)
    progress = min(1.0, (step - cfg.warmup) / span)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def _stderr_log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def train_tiny(cfg: TrainConfig, out: str | Path, *, name: str | None = None,
               command: str | None = None, log: Callable[[str], None] = _stderr_log) -> TrainResult:
    """Train one tiny model and write a complete checkpoint folder to ``out``.

    Parameters
    ----------
    cfg : TrainConfig
        Validated here; a bad option raises :class:`DomainError`.
    out : path
        Output folder (created; existing model files are overwritten).
    name : str, optional
        Model name for the cards (default: the folder name).
    command : str, optional
        The command line that reproduces the run (recorded in the cards).
    log : callable
        Receives progress lines (default: stderr).

    Returns
    -------
    TrainResult
        ``card`` holds val_loss_nats (from the saved weights), unigram_entropy_nats,
        train_loss_final, the loss curve, params, wall_s and versions.
    """
    from attnscope.corpora import stdlib_prose
    from attnscope.training.cards import write_cards
    from attnscope.training.data import train_batches, unigram_cross_entropy, validation_windows
    from attnscope.training.evaluate import evaluate_checkpoint, validation_loss
    from attnscope.training.tokenizer import encode_stream, train_bpe_tokenizer

    cfg.validate()
    out = Path(out)
    t0 = time.perf_counter()
    train_text, val_text = stdlib_prose("train"), stdlib_prose("validation")
    tok = train_bpe_tokenizer(train_text, cfg.vocab, model_max_length=cfg.context)
    train_ids, val_ids = encode_stream(tok, train_text), encode_stream(tok, val_text)
    windows = validation_windows(val_ids, T=cfg.context, bos_id=tok.bos_token_id, max_windows=cfg.val_windows)
    unigram = unigram_cross_entropy(train_ids, windows[:, 1:], cfg.vocab)
    log(f"data: {len(train_ids)} train tokens, {windows.shape[0]} validation windows of {cfg.context}; "
        f"unigram cross-entropy {unigram:.4f} nats/token")

    torch.manual_seed(cfg.seed)
    model = build_model(cfg, bos_id=tok.bos_token_id, eos_id=tok.eos_token_id)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg.lr, betas=(0.9, 0.95), eps=1e-8)
    batches = train_batches(train_ids, T=cfg.context, batch=cfg.batch, seed=cfg.seed, bos_id=tok.bos_token_id)
    model.train()
    curve, train_losses = [], []
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = _lr_at(step, cfg)
        x = next(batches)  # [batch, T]
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        train_losses.append(float(loss.detach()))
        done = step + 1
        if (cfg.eval_every and done % cfg.eval_every == 0) or done == cfg.steps:
            val = validation_loss(model, windows)
            tail = train_losses[-max(1, cfg.eval_every or cfg.steps):]
            curve.append({"step": done, "train_loss_nats": sum(tail) / len(tail), "val_loss_nats": val})
            log(f"step {done}/{cfg.steps}  train {curve[-1]['train_loss_nats']:.4f}  val {val:.4f}  "
                f"({time.perf_counter() - t0:.0f} s)")
    train_s = time.perf_counter() - t0

    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    if cfg.save_dtype == "float16":
        model = model.to(torch.float16)
    model.save_pretrained(str(out))
    tok.save_pretrained(str(out))
    config_path = out / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["dtype"] = "float32"  # compute dtype for default loads; storage dtype is in card.json
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    tail = train_losses[-max(1, cfg.steps // 20):]
    card = {
        "name": name or out.name,
        "architecture": "LlamaForCausalLM",
        "theta": float(cfg.theta),
        "context": cfg.context,
        "seed": cfg.seed,
        "steps": cfg.steps,
        "params": int(n_params),
        "config": dataclasses.asdict(cfg),
        "tokens_seen": cfg.steps * cfg.batch * (cfg.context - 1),
        "data": {"source": "attnscope.corpora.stdlib_prose (Python pydoc_data.topics)",
                 "train_split": "train", "validation_split": "validation",
                 "train_chars": len(train_text), "train_tokens": len(train_ids),
                 "validation_tokens": len(val_ids), "license": "PSF-2.0 (Python documentation)"},
        "val_windows": int(windows.shape[0]),
        "val_tokens_scored": int(windows[:, 1:].numel()),
        "val_loss_nats": None,
        "val_loss_before_save_nats": curve[-1]["val_loss_nats"],
        "unigram_entropy_nats": unigram,
        "train_loss_final": sum(tail) / len(tail),
        "train_loss_final_window_steps": len(tail),
        "curve": curve,
        "wall_s": None,
        "train_wall_s": train_s,
        "threads": torch.get_num_threads(),
        "weights_dtype": cfg.save_dtype,
        "bos_prepended": True,
        "command": command,
        "versions": _versions(),
    }
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    card["val_loss_nats"] = evaluate_checkpoint(out)["val_loss_nats"]  # from the SAVED weights
    card["wall_s"] = time.perf_counter() - t0
    write_cards(out, card)
    log(f"saved {out}: val {card['val_loss_nats']:.4f} nats/token (saved {cfg.save_dtype} weights) vs "
        f"unigram {unigram:.4f}; {n_params} params; {card['wall_s']:.0f} s")
    return TrainResult(out=out, card=card)


def _versions() -> dict:
    import platform

    import tokenizers
    import transformers

    from attnscope import __version__ as attnscope_version

    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
            "attnscope": attnscope_version}
