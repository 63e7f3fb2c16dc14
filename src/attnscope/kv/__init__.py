"""KV-cache policies applied during real generation and teacher-forced evaluation.

``with policy(model, context=N) as cache: model.generate(ids, past_key_values=cache)``

Policies (one per file; a policy writes only which token indices to keep):

- ``full`` (:class:`FullCache`) — keep everything (identical to no policy);
- ``sink_window`` (:class:`SinkWindow`) — StreamingLLM sinks + recent window;
- ``gamma_window`` (:class:`GammaWindow`) — sinks + the last D_f(γ_l, N, f) tokens per layer;
- ``soft_decay`` (:class:`SoftDecay`) — sinks + recent window + power-law thinned older tokens;
- ``random`` (:class:`RandomEvict`) — seeded random eviction at the same budget (the floor).

Evaluation: :func:`attnscope.kv.evaluate.kv_eval`; context extension:
:func:`attnscope.kv.extend.extend_eval`. Adding a policy: a file here, a line in
:data:`POLICIES`, a row in ``tests/kv/test_policies.py``'s matrix, a row in the README's KV section.
"""
from __future__ import annotations

from attnscope.kv.base import KVPolicy, validate_budget
from attnscope.kv.full import FullCache
from attnscope.kv.gamma_window import GammaWindow, gammas_from_record
from attnscope.kv.random_evict import RandomEvict
from attnscope.kv.sink_window import SinkWindow
from attnscope.kv.soft_decay import SoftDecay

__all__ = ["KVPolicy", "FullCache", "SinkWindow", "GammaWindow", "SoftDecay", "RandomEvict",
           "POLICIES", "make_policy", "validate_budget", "gammas_from_record"]

POLICIES: dict[str, type[KVPolicy]] = {
    cls.name: cls for cls in (FullCache, SinkWindow, GammaWindow, SoftDecay, RandomEvict)
}


def make_policy(name: str, **params) -> KVPolicy:
    """Build a registered policy by name; unknown names raise a one-line ProtocolError."""
    from attnscope.errors import ProtocolError

    if name not in POLICIES:
        raise ProtocolError(f"unknown KV policy; choose from {', '.join(POLICIES)}", field="policy", value=name)
    return POLICIES[name](**params)
