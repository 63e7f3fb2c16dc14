"""Byte-level BPE tokenizer for the bundled tiny models.

Trained with the ``tokenizers`` library on the training split of
:func:`attnscope.corpora.stdlib_prose`, wrapped in a
:class:`transformers.PreTrainedTokenizerFast` so that
``AutoTokenizer.from_pretrained(folder)`` works offline. The tokenizer
prepends ``<|bos|>`` (id 0) to every encoded text; position 0 of every
training and validation window is therefore the BOS token (the attention sink).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from attnscope.errors import DomainError

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedTokenizerFast

BOS_TOKEN = "<|bos|>"
EOS_TOKEN = "<|eos|>"
BOS_ID = 0  # special tokens are added first, in this order, so their ids are fixed
EOS_ID = 1
MIN_VOCAB = 256 + 2  # the byte alphabet plus the two special tokens


def train_bpe_tokenizer(text: str, vocab_size: int, *, model_max_length: int) -> "PreTrainedTokenizerFast":
    """Train a byte-level BPE on ``text`` and return it as a transformers fast tokenizer.

    Parameters
    ----------
    text : str
        Training text (the tokenizer never sees validation text).
    vocab_size : int
        Target vocabulary size including the 256 byte symbols and 2 specials; >= 258.
    model_max_length : int
        Recorded in ``tokenizer_config.json`` (the model's training context, tokens).

    Returns
    -------
    PreTrainedTokenizerFast
        Encodes with a leading ``<|bos|>``; ``bos_token_id == 0``, ``eos_token_id == 1``.
        Training is deterministic for a given text and vocabulary size.
    """
    if vocab_size < MIN_VOCAB:
        raise DomainError(f"vocabulary must be at least {MIN_VOCAB} (256 bytes + 2 specials)",
                          field="vocab", value=vocab_size)
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[BOS_TOKEN, EOS_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([text], trainer=trainer)
    if tok.token_to_id(BOS_TOKEN) != BOS_ID or tok.token_to_id(EOS_TOKEN) != EOS_ID:
        raise RuntimeError("special-token ids moved; the tokenizers library changed its layout")
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS_TOKEN} $A", pair=f"{BOS_TOKEN} $A {BOS_TOKEN} $B",
        special_tokens=[(BOS_TOKEN, BOS_ID)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS_TOKEN, eos_token=EOS_TOKEN,
        model_max_length=model_max_length,
    )


def encode_stream(tokenizer: "PreTrainedTokenizerFast", text: str) -> list[int]:
    """Token ids of ``text`` WITHOUT the leading BOS (one continuous stream)."""
    # the backend tokenizer avoids transformers' "longer than model_max_length" warning
    return tokenizer.backend_tokenizer.encode(text, add_special_tokens=False).ids
