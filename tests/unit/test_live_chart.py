"""The live chart samples within its time bound and stops early when told to."""

import itertools

import pytest

from brokerlab.errors import BrokerlabError
from brokerlab.observe.live import LiveChart


def test_watch_stops_when_the_condition_holds():
    counter = itertools.count()
    chart = LiveChart("t", "n")
    series = chart.watch(lambda: {"n": next(counter)}, seconds=30, interval=0.01,
                         until=lambda v: v["n"] >= 5)
    assert series["n"] == [0, 1, 2, 3, 4, 5]
    assert len(chart.ax.lines) == 1


def test_watch_respects_its_deadline():
    chart = LiveChart("t", "n")
    series = chart.watch(lambda: {"a": 1.0, "b": 2.0}, seconds=0.3, interval=0.1)
    assert 1 <= len(series["a"]) <= 4 and len(series["a"]) == len(series["b"])


def test_bad_durations_are_refused():
    with pytest.raises(BrokerlabError):
        LiveChart("t", "n").watch(lambda: {}, seconds=0)
