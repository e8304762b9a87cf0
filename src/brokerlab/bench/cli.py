"""``brokerlab bench``: run named experiments and write their JSON; ``calibrate`` prints the
Python-vs-native ratio per broker. ``--quick`` (or ``BROKERLAB_BENCH_MODE=quick``) for CI."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from brokerlab import settings
from brokerlab.brokers import maven


def _bench(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from brokerlab.bench.experiments import Bench
    from brokerlab.bench.mode import current

    return Bench(mode=current("quick" if args.quick else None))


def _progress(total: int, desc: str):  # type: ignore[no-untyped-def]
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False)
    return bar, (lambda: bar.update(1))


def _output(args: argparse.Namespace, name: str) -> Path:
    directory = Path(args.output_dir) if args.output_dir else settings.data_dir() / "bench"
    return directory / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"


def cmd_calibrate(args: argparse.Namespace) -> int:
    from brokerlab.bench import experiments

    bench = _bench(args)
    bar, tick = _progress(experiments.steps("calibrate", bench.mode), "calibrate")
    result = experiments.calibrate(bench, tick)
    bar.close()
    experiment = result.pop("experiment")
    path = _output(args, "calibrate")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**result, "experiment": experiment}, indent=2, default=str))
    result["result_file"] = str(path)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"mode {result['mode']}, 1 KiB messages, durability D1 on both, load average "
          f"{result['load_average_1m_before']} at the start; full record: {path}")
    for system in ("kafka", "rabbitmq"):
        r = result[system]
        print(f"{system:9s} python ({r['python_harness']['producer_processes']} producer processes) "
              f"{r['python_msgs_per_s']:>9,} msg/s   {r['native_tool']} {r['native_msgs_per_s']:>9,} msg/s"
              f"   ratio {r['ratio']}   ({r['python_bound']} / {r['native_bound']}; load average "
              f"{r['load_average_1m_after']} after)")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from brokerlab.bench import experiments

    bench = _bench(args)
    unknown = [n for n in args.experiments if n.upper() not in experiments.EXPERIMENTS]
    if unknown:
        print(f"error: unknown experiment(s) {unknown}; choose from "
              f"{', '.join(experiments.EXPERIMENTS)}", file=sys.stderr)
        return 2
    for name in args.experiments:
        key = name.upper()
        bar, tick = _progress(experiments.steps(key, bench.mode), key)
        try:
            exp = experiments.EXPERIMENTS[key](bench, tick, size=args.size)
        finally:
            bar.close()
            bench.close()
        path = exp.save(_output(args, key))
        print(f"{key}: {exp.title} — {len(exp.configs)} configurations → {path}")
        for cfg in exp.configs:
            s = cfg.summary["msgs_per_s"]
            print(f"  {cfg.label:70s} {s['median']:>10,.0f} msg/s "
                  f"[{s['min']:,.0f}–{s['max']:,.0f}] {cfg.bound}")
    return 0


def cmd_scale(args: argparse.Namespace) -> int:
    from brokerlab.bench import scale

    families = args.family or list(scale.FAMILIES)
    unknown = sorted(set(families) - set(scale.FAMILIES))
    if unknown:
        print(f"error: unknown famil(y/ies) {unknown}; choose from {', '.join(scale.FAMILIES)}",
              file=sys.stderr)
        return 2
    bench = _bench(args)
    cluster = scale.cluster_kafka(bench.ep) is not None
    points = scale.grid(bench.mode, families)
    if not args.no_durability:
        points += [p for p in scale.durability_grid(bench.mode, cluster) if p.family in families]
    print(f"{len(points)} points, about {scale.estimate_s(points, bench.mode):.0f} s "
          f"(mode {bench.mode.name}; RF 3 on the cluster: {'yes' if cluster else 'no, cluster down'})",
          file=sys.stderr)
    bar, tick = _progress(len(points), "scale")
    try:
        record = scale.run(points, bench.mode, bench.ep, size=args.size, progress=tick)
    finally:
        bar.close()
    path = _output(args, "scale")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))
    if args.json:
        print(json.dumps({**record, "result_file": str(path)}, indent=2))
        return 0
    for p in record["points"]:
        print(f"{p['curve']:55s} width {p['width']:2d}  {p['msgs_per_s']:>9,} msg/s "
              f"{p['MiB_per_s']:>7.1f} MiB/s  broker {p['cpu']['broker_cores']:.2f} cores, "
              f"clients {p['cpu']['client_cores']:.2f}  {p['bound']}  load {p['load_average_1m']}")
    print(f"full record: {path}")
    return 0


def cmd_machine(args: argparse.Namespace) -> int:
    from brokerlab.bench import machine

    limits = {**_bench(args).machine_limits(), "environment": machine.environment()}
    print(json.dumps(limits, indent=2) if args.json else
          f"fsync p50 {limits['fsync']['p50_ms']} ms, p99 {limits['fsync']['p99_ms']} ms; "
          f"loopback TCP {limits['loopback']['MiB_per_s']} MiB/s; "
          f"{limits['environment']['cpu_count']} CPUs")
    return 0


def cmd_fetch(_args: argparse.Namespace) -> int:
    from brokerlab.bench import jars

    cached = maven.PERFTEST.cached(jars.cache_dir())
    path = jars.perftest_jars()
    print(f"RabbitMQ PerfTest {maven.PERFTEST.version()} jars {'already cached' if cached else 'cached'} "
          f"in {path}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``bench`` and its subcommands on the main parser."""
    bench = sub.add_parser("bench", help="benchmarks: E1–E5, scaling curves, calibrate, machine limits")
    inner = bench.add_subparsers(dest="bench_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--quick", action="store_true",
                       help="short durations (CI); default: $BROKERLAB_BENCH_MODE or full")
        p.add_argument("--output-dir", default=None,
                       help="where to write the JSON (default: <data dir>/bench)")

    p = inner.add_parser("calibrate", help="Python load generator vs native tool on each broker")
    common(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_calibrate)
    p = inner.add_parser("run", help="run named experiments (E1 E2 E3 E4 E5) and write their JSON")
    common(p)
    p.add_argument("experiments", nargs="+", metavar="EXPERIMENT")
    p.add_argument("--size", type=int, default=1024, help="message size in bytes (default 1024)")
    p.set_defaults(func=cmd_run)
    p = inner.add_parser("scale", help="throughput curves: partitions/queues × producer processes")
    common(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--family", action="append", metavar="FAMILY",
                   help="only this family (repeatable): kafka, classic, quorum, stream-amqp, "
                        "stream-protocol")
    p.add_argument("--no-durability", action="store_true",
                   help="skip the second durability setting (acks=1, transient, RF 3)")
    p.add_argument("--size", type=int, default=1024, help="message size in bytes (default 1024)")
    p.set_defaults(func=cmd_scale)
    p = inner.add_parser("fetch", help="resolve and cache RabbitMQ PerfTest's jars (needs Maven once)")
    p.set_defaults(func=cmd_fetch)
    p = inner.add_parser("machine", help="this machine's fsync latency and loopback throughput")
    common(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_machine)
