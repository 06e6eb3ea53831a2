"""Delays between attempts. Pure functions: the workflow passes its deterministic random."""

from __future__ import annotations

from random import Random

from tasklane.model import RetryPolicy


def delay_before_retry(policy: RetryPolicy, retry_number: int, rng: Random) -> float:
    """Seconds to wait before retry `retry_number` (1 = the second attempt)."""
    n = retry_number
    delay: float
    if policy.backoff == "taskhook":
        # The Taskhook schedule: n**4 + 15 + rand(0..9) * (n + 1) seconds.
        delay = n**4 + 15 + rng.randint(0, 9) * (n + 1)
    elif policy.backoff == "exponential":
        delay = policy.initial_delay_s * 2 ** (n - 1)
    else:
        delay = policy.initial_delay_s
    if policy.max_delay_s is not None:
        delay = min(delay, policy.max_delay_s)
    return float(delay)
