from random import Random

from tasklane.model import RetryPolicy
from workflows.retry_schedule import delay_before_retry


def test_taskhook_schedule_matches_the_formula_for_every_retry() -> None:
    policy = RetryPolicy()
    for n in range(1, 25):
        rng_a, rng_b = Random(n), Random(n)
        expected = n**4 + 15 + rng_b.randint(0, 9) * (n + 1)
        assert delay_before_retry(policy, n, rng_a) == expected


def test_taskhook_schedule_spans_its_range() -> None:
    delays = {delay_before_retry(RetryPolicy(), 3, Random(seed)) for seed in range(200)}
    assert min(delays) == 3**4 + 15 and max(delays) == 3**4 + 15 + 9 * 4


def test_exponential_and_fixed_and_cap() -> None:
    exp = RetryPolicy(backoff="exponential", initial_delay_s=2, max_delay_s=10)
    assert [delay_before_retry(exp, n, Random(0)) for n in (1, 2, 3, 4)] == [2, 4, 8, 10]
    fixed = RetryPolicy(backoff="fixed", initial_delay_s=0.2)
    assert delay_before_retry(fixed, 7, Random(0)) == 0.2
