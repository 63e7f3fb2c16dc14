"""Offline English prose that every Python install carries.

The Python standard library's ``pydoc_data.topics`` (the language reference
topics shown by ``help()``) is the default text corpus for training the bundled
tiny models and for the ``text`` measurement corpus. The split is deterministic:
topics are ordered by name and the last ``VALIDATION_FRACTION`` of them (by
count) are held out, so training never sees the validation/measurement text.
"""
from __future__ import annotations

from typing import Literal

VALIDATION_FRACTION = 0.1  # share of topics held out (by count, in sorted-name order)

Split = Literal["train", "validation", "all"]


def stdlib_prose(split: Split = "all") -> str:
    """Return the concatenated ``pydoc_data.topics`` texts for ``split``.

    Parameters
    ----------
    split : {"train", "validation", "all"}
        "validation" is the last 10% of topics in sorted-name order.
    """
    import pydoc_data.topics as topics

    from attnscope.errors import ProtocolError

    names = sorted(topics.topics)
    n_val = max(1, int(round(len(names) * VALIDATION_FRACTION)))
    if split == "train":
        names = names[:-n_val]
    elif split == "validation":
        names = names[-n_val:]
    elif split != "all":
        raise ProtocolError("expected 'train', 'validation' or 'all'", field="split", value=split)
    return "\n\n".join(topics.topics[k].strip() for k in names)
