"""Lab 01 checker: rejects a records/speed estimate that ignores whole partitions, and groups larger
than the partition count (whose extra members the live run sees idle); accepts the reference."""

import math

import pytest

from brokerlab.course import checks
from brokerlab.exercises import lab_01_consumer_lag as lab01

pytestmark = pytest.mark.integration


def by_total_records(partitions, backlog_per_partition, records_per_second, deadline_s):
    """Total records / (speed x deadline): forgets that a partition is never split."""
    return max(1, math.ceil(partitions * backlog_per_partition / (records_per_second * deadline_s)))


def partitions_plus_two(partitions, backlog_per_partition, records_per_second, deadline_s):
    """'More consumers is always faster': two more than the partition count."""
    return partitions + 2


def one_per_partition(partitions, backlog_per_partition, records_per_second, deadline_s):
    """Always the partition count: fast enough, but not the smallest group."""
    return partitions


def not_attempted(*_args):
    raise NotImplementedError


def failed(result):
    return "\n".join(line for line in result.feedback if line.startswith("✘"))


def test_the_scenarios_answers():
    assert [s.answer() for s in lab01.SCENARIOS] == [2, 6, 1, 4, 4]


def test_rejects_counting_records_instead_of_partitions(brokers):
    result = lab01.check_consumers_needed(by_total_records, brokers)
    assert not result.passed
    text = failed(result)
    assert "busiest one owns ceil(6/4) = 2 partitions" in text and "never split" in text, result
    assert "sit idle" in text, result  # 8 consumers for 4 partitions in the impossible scenario


def test_rejects_more_consumers_than_partitions_and_sees_them_idle_live(brokers):
    result = lab01.check_consumers_needed(partitions_plus_two, brokers)
    assert not result.passed
    text = failed(result)
    assert "2 consumer(s) would get no partition and sit idle" in text, result
    assert "Live: the group coordinator gave 2 of your 8 consumers no partition" in text, result


def test_rejects_a_group_larger_than_needed(brokers):
    result = lab01.check_consumers_needed(one_per_partition, brokers)
    assert not result.passed
    assert "Return the SMALLEST group" in failed(result), result


def test_not_attempted_is_a_hint_not_a_traceback(brokers):
    result = lab01.check_consumers_needed(not_attempted, brokers)
    assert not result.passed and "Not attempted" in result.feedback[0]


def test_accepts_the_reference(brokers):
    reference = checks.load_solution("lab_01_consumer_lag")
    result = lab01.check_consumers_needed(reference.consumers_needed, brokers)
    assert result.passed, result
    assert any("Live: 2 consumer(s) drained 240 records" in line for line in result.feedback), result
