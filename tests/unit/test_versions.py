"""Version-aware expectations of labs 04 and 07: each RabbitMQ version gets its own behaviour."""

import pytest

from brokerlab.errors import BrokerlabError
from brokerlab.observe import versions

MiB = 2**20
TOTAL = 1500 * 16 * 1024


@pytest.mark.parametrize(("text", "parsed"), [("3.10.8", (3, 10, 8)), ("4.0.5", (4, 0, 5)),
                                              ("3.13.7+1.g0123", (3, 13, 7)), ("4.1", (4, 1, 0))])
def test_parse(text, parsed):
    assert versions.parse(text) == parsed


def test_parse_rejects_garbage():
    with pytest.raises(BrokerlabError):
        versions.parse("latest")


def test_default_delivery_limit_by_version():
    assert versions.default_delivery_limit((3, 10, 8)) is None
    assert versions.default_delivery_limit((3, 13, 7)) is None
    assert versions.default_delivery_limit((4, 0, 5)) == 20


@pytest.mark.parametrize("old", [(3, 10, 8), (3, 11, 28)])
def test_classic_backlog_before_3_12(old):
    in_ram = versions.classic_backlog(old, TOTAL, TOTAL, "infinity")
    assert in_ram.held and "memory to spare" in in_ram.meaning
    paged = versions.classic_backlog(old, 2 * MiB, TOTAL, 128)
    assert paged.held and "128" in paged.meaning
    unexplained = versions.classic_backlog(old, 2 * MiB, TOTAL, "infinity")
    assert not unexplained.held  # paging with no memory pressure is not what 3.10 does


@pytest.mark.parametrize("new", [(3, 12, 0), (3, 13, 7), (4, 0, 5)])
def test_classic_backlog_from_3_12(new):
    assert versions.classic_backlog(new, 2 * MiB, TOTAL, None).held
    all_in_ram = versions.classic_backlog(new, TOTAL, TOTAL, None)
    assert not all_in_ram.held and "3.12 or later" in all_in_ram.expected


def test_requeue_loop_before_4_0():
    endless = versions.requeue_loop((3, 10, 8), deliveries=3000, redelivery_header=2999, still_queued=1,
                                    seconds=12)
    assert endless.held and "before 4.0" in endless.expected
    assert not versions.requeue_loop((3, 13, 7), 21, 20, 0, 12).held  # a 4.x outcome on 3.13


def test_requeue_loop_from_4_0():
    ended = versions.requeue_loop((4, 0, 5), deliveries=21, redelivery_header=20, still_queued=0, seconds=12)
    assert ended.held and "20" in ended.expected
    assert not versions.requeue_loop((4, 0, 5), 3000, 2999, 1, 12).held  # a 3.x outcome on 4.0
