"""Lab 05 checker: rejects graphs that drop, over-match or catch-all, bindings listing another
attempt's keys or the keys a failed attempt printed; accepts every correct variant."""

import re

import pytest

from brokerlab.course import checks
from brokerlab.exercises import lab_05_complex_routing as lab05

pytestmark = pytest.mark.integration


def build(channel, names, billing=("order.created.*", "order.cancelled.*"), audit=("payment.#",),
          alternate=True, catch_all=False):
    q = names["queues"]
    channel.exchange_declare(names["alternate"], "fanout")
    channel.queue_declare(q["unrouted"])
    channel.queue_bind(q["unrouted"], names["alternate"], "")
    arguments = {"alternate-exchange": names["alternate"]} if alternate else {}
    channel.exchange_declare(names["exchange"], "topic", arguments=arguments)
    if catch_all:
        channel.queue_bind(q["unrouted"], names["exchange"], "#")
    patterns = {"billing": billing, "shipping_eu": ("order.paid.eu",), "shipping_us": ("order.paid.us",),
                "audit": audit}
    for service, keys in patterns.items():
        channel.queue_declare(q[service])
        for key in keys:
            channel.queue_bind(q[service], names["exchange"], key)


def listing(routes):
    """Bindings that name one attempt's keys one by one instead of patterns."""
    def build_listed(channel, names):
        build(channel, names, billing=[k for k, t in routes.items() if t == ("billing",)],
              audit=[k for k, t in routes.items() if t == ("audit",)])
    return build_listed


def failed(result):
    return "\n".join(line for line in result.feedback if line.startswith("✘"))


def test_each_attempt_draws_other_keys():
    a, b = lab05.new_routes(1), lab05.new_routes(2)
    assert a != b and lab05.new_routes(1) == a
    assert {t for t in a.values()} == {(q,) for q in lab05.QUEUE_KEYS}  # every queue gets a key


def test_rejects_a_graph_without_alternate_exchange(brokers):
    result = lab05.check_exact_routing(lambda ch, n: build(ch, n, alternate=False), brokers)
    assert not result.passed
    assert "unroutable" in failed(result) and "alternate-exchange" in failed(result), result


def test_rejects_an_over_broad_hash(brokers):
    result = lab05.check_exact_routing(lambda ch, n: build(ch, n, billing=("order.#",)), brokers)
    assert not result.passed
    text = failed(result)
    assert "'order.paid.eu' should land in shipping_eu only" in text and "landed in billing" in text
    assert "'#' matches any number of words" in text, result


def test_rejects_a_star_that_misses_deeper_keys(brokers):
    result = lab05.check_exact_routing(lambda ch, n: build(ch, n, audit=("payment.*",)), brokers)
    assert not result.passed
    assert "'*' matches exactly one word" in failed(result), result


def test_rejects_a_catch_all_binding_instead_of_an_alternate_exchange(brokers):
    result = lab05.check_exact_routing(lambda ch, n: build(ch, n, alternate=False, catch_all=True), brokers)
    assert not result.passed
    assert "bind it to the alternate exchange" in failed(result), result


def test_rejects_the_keys_of_another_attempt(brokers):
    result = lab05.check_exact_routing(listing(lab05.new_routes(3)), brokers, seed=4)
    assert not result.passed, result


def test_rejects_keys_copied_from_a_failed_attempt(brokers, capsys):
    first = lab05.check_exact_routing(lambda ch, n: None, brokers, seed=5)
    assert not first.passed
    printed = re.search(r"routing keys this attempt: (.*)", capsys.readouterr().out).group(1).split(", ")
    copied = {k: lab05.new_routes(5)[k] for k in printed}
    result = lab05.check_exact_routing(listing(copied), brokers, seed=6)
    assert not result.passed, result


def test_missing_exchange_is_a_hint(brokers):
    result = lab05.check_exact_routing(lambda ch, n: None, brokers)
    assert not result.passed and "404" in failed(result) and "Declare every exchange" in failed(result)


def test_accepts_the_reference_and_other_correct_patterns(brokers):
    reference = checks.load_solution("lab_05_complex_routing")
    for seed in (7, 8):
        result = lab05.check_exact_routing(reference.build_routing, brokers, seed=seed)
        assert result.passed, result
    variant = lambda ch, n: build(ch, n, billing=("order.created.*", "order.cancelled.*"),  # noqa: E731
                                  audit=("payment.*", "payment.*.#"))
    result = lab05.check_exact_routing(variant, brokers, seed=9)
    assert result.passed, result
