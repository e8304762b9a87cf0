"""Notebook 02's lag checker draws a fresh scenario per seed, with every case its hints need."""

from brokerlab.exercises.lesson_02_consumer_lag import Slot, expected_lags, scenario


def test_the_same_seed_gives_the_same_scenario_and_another_seed_another():
    assert scenario(7) == scenario(7)
    assert len({scenario(seed) for seed in range(20)}) == 20


def test_every_scenario_has_each_kind_of_partition_the_hints_talk_about():
    for seed in range(200):
        slots = scenario(seed)
        assert 4 <= len(slots) <= 6
        assert any(s.committed is None and s.deleted for s in slots)  # counts from the low watermark
        assert any(s.committed is None and not s.deleted for s in slots)
        assert any(s.committed == s.records for s in slots)  # caught up
        assert all(s.committed is None or s.deleted < s.committed <= s.records for s in slots)
        assert all(0 <= s.deleted < s.records for s in slots)


def test_lag_is_high_minus_committed_or_high_minus_low():
    slots = (Slot(8, 0, 5), Slot(6, 2, None), Slot(5, 0, 5), Slot(9, 3, 4))
    assert expected_lags(slots) == {0: 3, 1: 4, 2: 0, 3: 5}
