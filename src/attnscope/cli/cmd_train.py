"""``attnscope train-tiny``: train a tiny Llama-style RoPE model on the stdlib prose corpus."""
from __future__ import annotations

from pathlib import Path

import typer

from attnscope.cli import app


@app.command("train-tiny")
def train_tiny_cmd(
    out: Path = typer.Option(..., "--out", help="Output folder for the checkpoint (HF format)."),
    theta: float = typer.Option(10000.0, "--theta", help="RoPE base θ (> 0)."),
    context: int = typer.Option(256, "--context", help="Training sequence length T, BOS included."),
    d_model: int = typer.Option(128, "--d-model", help="Hidden width."),
    layers: int = typer.Option(4, "--layers", help="Decoder layers."),
    heads: int = typer.Option(4, "--heads", help="Query heads."),
    kv_heads: int = typer.Option(4, "--kv-heads", help="Key/value heads (GQA when < heads)."),
    intermediate: int = typer.Option(512, "--intermediate", help="SwiGLU hidden width."),
    steps: int = typer.Option(400, "--steps", help="Optimiser steps."),
    batch: int = typer.Option(16, "--batch", help="Sequences per step."),
    lr: float = typer.Option(3e-3, "--lr", help="Peak AdamW learning rate."),
    warmup: int = typer.Option(40, "--warmup", help="Linear warm-up steps."),
    weight_decay: float = typer.Option(0.1, "--weight-decay", help="AdamW weight decay (matrices only)."),
    seed: int = typer.Option(0, "--seed", help="Seeds the initial weights and the data order."),
    vocab: int = typer.Option(2048, "--vocab", help="Byte-level BPE vocabulary size (>= 258)."),
    eval_every: int = typer.Option(50, "--eval-every", help="Validate every N steps (0: only at the end)."),
    val_windows: int = typer.Option(64, "--val-windows", help="At most this many validation windows."),
    save_dtype: str = typer.Option("float16", "--save-dtype", help="Storage dtype: float16 or float32."),
    threads: int = typer.Option(2, "--threads", help="torch CPU threads (part of bit-exact reproducibility)."),
    name: str = typer.Option(None, "--name", help="Model name in the cards (default: folder name)."),
) -> None:
    """Train a tiny RoPE causal LM; progress on stderr, card.json on stdout.

    Example: attnscope train-tiny --out tiny-theta300 --theta 300 --context 256 --steps 400
    """
    import shlex
    import sys

    from attnscope.cli._common import print_json
    from attnscope.errors import DomainError
    from attnscope.training.train import TrainConfig

    cfg = TrainConfig(theta=theta, context=context, d_model=d_model, layers=layers, heads=heads,
                      kv_heads=kv_heads, intermediate=intermediate, steps=steps, batch=batch, lr=lr,
                      weight_decay=weight_decay, warmup=warmup, seed=seed, vocab=vocab,
                      eval_every=eval_every, val_windows=val_windows, save_dtype=save_dtype).validate()
    if threads <= 0:
        raise DomainError("must be > 0", field="threads", value=threads)

    import torch
    from transformers.utils import logging as hf_logging

    from attnscope.training.train import train_tiny

    torch.set_num_threads(threads)
    hf_logging.disable_progress_bar()
    command = "attnscope " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else None
    result = train_tiny(cfg, out, name=name, command=command)
    print_json(result.card)
