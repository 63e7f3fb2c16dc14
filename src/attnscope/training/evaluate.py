"""Validation loss of a tiny model, and re-evaluation of a saved checkpoint.

The validation loss is the mean next-token cross-entropy (nats/token) over
all predicted positions 1..T-1 of the deterministic validation windows of
:func:`attnscope.training.data.validation_windows`. ``evaluate_checkpoint``
recomputes it from the files in a model folder (the SAVED weights, loaded in
float32), exactly as written into ``card.json``.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from attnscope.errors import ModelSourceError


@torch.no_grad()
def validation_loss(model: torch.nn.Module, windows: torch.Tensor, *, batch: int = 8) -> float:
    """Mean next-token cross-entropy (nats/token) of ``model`` over ``windows`` [n, T]."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        for i in range(0, windows.shape[0], batch):
            x = windows[i : i + batch]  # [b, T]
            logits = model(input_ids=x).logits.float()  # [b, T, V]
            losses = torch.nn.functional.cross_entropy(
                logits[:, :-1].reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum")
            total += float(losses)
            count += x[:, 1:].numel()
    finally:
        model.train(was_training)
    return total / count


def read_card(folder: str | Path) -> dict:
    """The machine-readable ``card.json`` of a bundled/trained model folder."""
    path = Path(folder) / "card.json"
    if not path.is_file():
        raise ModelSourceError("no card.json in the model folder", field="path", value=str(folder))
    return json.loads(path.read_text(encoding="utf-8"))


def evaluate_checkpoint(folder: str | Path, *, device: str = "cpu") -> dict:
    """Reload a saved tiny model offline and recompute its validation loss.

    Parameters
    ----------
    folder : path
        A folder written by :func:`attnscope.training.train.train_tiny`.

    Returns
    -------
    dict
        ``val_loss_nats`` (recomputed now), ``card_val_loss_nats`` (as recorded),
        ``n_windows`` and ``context``.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from attnscope.corpora import stdlib_prose
    from attnscope.training.data import validation_windows
    from attnscope.training.tokenizer import encode_stream

    card = read_card(folder)
    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).to(device)
    stream = encode_stream(tok, stdlib_prose(card["data"]["validation_split"]))
    windows = validation_windows(stream, T=card["context"], bos_id=tok.bos_token_id,
                                 max_windows=card["val_windows"]).to(device)
    return {
        "val_loss_nats": validation_loss(model, windows),
        "card_val_loss_nats": card["val_loss_nats"],
        "n_windows": int(windows.shape[0]),
        "context": card["context"],
    }
