"""Scaling curves: the points each mode measures, their workloads, estimates and the record's shape."""

import pytest

from brokerlab import cli
from brokerlab.bench import experiments, mode, scale


def test_quick_measures_fewer_points_than_full_on_every_family():
    quick, full = scale.grid(mode.QUICK), scale.grid(mode.FULL)
    assert {p.family for p in quick} == {p.family for p in full} == set(scale.FAMILIES)
    assert len(quick) < len(full)
    assert mode.QUICK.scale_duration_s < mode.FULL.scale_duration_s


def test_full_grid_is_the_documented_one():
    points = scale.grid(mode.FULL)
    kafka = {(p.width, p.producers) for p in points if p.family == "kafka"}
    assert kafka == {(w, n) for w in (1, 2, 4, 8, 16) for n in (1, 2, 4)}
    for family in scale.RABBIT_FAMILIES:
        widths = {(p.width, p.producers) for p in points if p.family == family}
        assert widths == {(w, n) for w in (1, 2, 4, 8) for n in (1, 2, 4)}, family
    assert len(points) == 15 + 4 * 12


def test_durability_grid_adds_the_second_setting_at_the_most_producers():
    points = scale.durability_grid(mode.QUICK)
    top = max(mode.QUICK.scale_producers)
    assert {p.producers for p in points} == {top}
    assert {p.setting for p in points} == {"acks=1 RF 1", "transient, confirms"}
    with_cluster = scale.durability_grid(mode.QUICK, cluster=True)
    rf3 = [p for p in with_cluster if p.replication == 3]
    assert {p.setting for p in rf3} == {"acks=1 RF 3", "acks=all RF 3"}
    assert len(rf3) == 2 * len(mode.QUICK.scale_partitions)


@pytest.mark.parametrize(("point", "expected"), [
    (scale.Point("kafka", 4, 2, acks="1"), {"system": "kafka", "acks": "1", "consumer": False}),
    (scale.Point("classic", 2, 1, persistent=False),
     {"queue_type": "classic", "durable": False, "persistent": False, "publish_mode": "pipelined"}),
    (scale.Point("quorum", 1, 1), {"queue_type": "quorum", "confirm_window": scale.CONFIRM_WINDOW}),
    (scale.Point("stream-amqp", 1, 1), {"queue_type": "stream", "confirm_window": scale.CONFIRM_WINDOW}),
    (scale.Point("stream-protocol", 1, 1), {"queue_type": "stream", "confirm_window": scale.STREAM_WINDOW}),
])
def test_each_point_builds_a_valid_producer_workload(point, expected):
    w = point.workload(2048).as_dict()
    assert w["size"] == 2048 and w["consumer"] is False
    assert {k: w[k] for k in expected} == expected


def test_estimates_add_up_per_point():
    points = scale.grid(mode.QUICK)
    one = scale.estimate_s(points[:1], mode.QUICK)
    assert one == pytest.approx(mode.QUICK.scale_warmup_s + mode.QUICK.scale_duration_s
                                + scale.SETUP_S["kafka"] + scale.PER_PRODUCER_S * points[0].producers)
    assert scale.estimate_s(points, mode.QUICK) > one
    assert scale.estimate_s(scale.grid(mode.FULL), mode.FULL) > scale.estimate_s(points, mode.QUICK)
    for name in ("E1", "E2", "E3", "E4", "E5", "calibrate"):
        assert 0 < experiments.estimate_s(name, mode.QUICK) < experiments.estimate_s(name, mode.FULL)


def _point(family, width, producers, rate, setting="confirms"):
    return {"family": family, "system": "kafka" if family == "kafka" else "rabbitmq", "width": width,
            "producers": producers, "setting": setting, "curve": f"{family} {setting}",
            "msgs_per_s": rate, "MiB_per_s": rate / 1024, "window_s": 1.0, "bound": "waiting",
            "load_average_1m": 1.0, "cpu": {"broker_cores": 0.5, "client_cores": 0.25}}


def test_peaks_pick_the_fastest_point_per_family_and_setting():
    points = [_point("kafka", 1, 1, 10), _point("kafka", 4, 2, 30), _point("classic", 1, 1, 5),
              _point("classic", 2, 1, 7, setting="transient, confirms")]
    peaks = scale.peaks(points)
    assert peaks["kafka confirms"]["msgs_per_s"] == 30 and peaks["kafka confirms"]["width"] == 4
    assert set(peaks) == {"kafka confirms", "classic confirms", "classic transient, confirms"}


def test_record_shape_is_validated():
    record = {"schema": scale.SCHEMA, "mode": "quick", "message_bytes": 1024, "window_s": 1.0,
              "cpu_count": 2, "load_average_1m_at_start": 1.0, "estimate_s": 3, "elapsed_s": 3,
              "points": [_point("quorum", 1, 1, 5)], "peaks": {}}
    assert scale.validate(record) == []
    assert "missing key 'peaks'" in scale.validate({k: v for k, v in record.items() if k != "peaks"})
    bad = {**record, "points": [{**_point("quorum", 1, 1, 5), "family": "mirrored"}]}
    assert any("unknown family" in p for p in scale.validate(bad))
    assert len(scale.table(record["points"]).splitlines()) == 2


def test_scale_subcommand_is_registered_and_refuses_unknown_families(capsys):
    args = cli.build_parser().parse_args(["bench", "scale", "--json", "--quick", "--family", "kafka"])
    assert args.json and args.quick and args.family == ["kafka"] and args.func.__name__ == "cmd_scale"
    assert cli.main(["bench", "scale", "--quick", "--family", "mirrored"]) == 2
    assert "unknown famil" in capsys.readouterr().err
