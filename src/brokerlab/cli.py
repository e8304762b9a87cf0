"""The `brokerlab` command: start, stop and inspect the course's brokers."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

from brokerlab import settings
from brokerlab.bench import cli as bench_cli
from brokerlab.brokers import backend_for, cleanup, doctor, launch, maven, processes
from brokerlab.brokers.backend import Status
from brokerlab.course import checks, claims
from brokerlab.errors import BrokerlabError


def _print_status(status: Status) -> None:
    print(f"backend: {status.backend}  ({status.deployment})")
    if status.data_dir:
        print(f"data dir: {status.data_dir}")
    for title, info in (("Kafka", status.kafka), ("RabbitMQ", status.rabbitmq)):
        state = "UP" if info.up else "ORPHAN" if info.orphaned else "DOWN"
        mem = f", RSS {info.rss_bytes / 2**20:.0f} MiB" if info.rss_bytes else ""
        print(f"{title:9s} {state:4s}  version {info.version or '?'}{mem}  pids {info.pids}")
        for key, value in info.endpoints.items():
            print(f"          {key}: {value}")
        for node in info.nodes if len(info.nodes) > 1 else []:
            print(f"          - {node.name} :{node.port} {'alive' if node.alive else 'down'} "
                  f"pids {node.pids}")
        for node in info.orphaned:
            print(f"          ! {node.name}: running without a record (orphan), pids {node.orphans}")
        for node in info.nodes:
            if node.record != "ok":
                print(f"          ! {node.record}")
    for proc in status.orphans:
        print(f"orphan    pid {proc['pid']} {proc['name']}: {proc['cmdline'][:100]}")
    if status.orphans:
        down = "brokerlab down" if status.deployment == "single" else f"brokerlab {status.deployment} down"
        print(f"          → processes of the course run without a record: `{down}` stops them.")


def cmd_up(args: argparse.Namespace) -> int:
    backend = backend_for(args)
    t0 = time.monotonic()
    report = backend.up(progress=print)
    if report.already_up:
        print(f"Already up ({time.monotonic() - t0:.2f} s). `brokerlab status` shows details.")
        return 0
    parts = ", ".join(f"{name} {secs:.1f} s" for name, secs in report.seconds.items())
    print(f"Up in {time.monotonic() - t0:.1f} s ({parts}).")
    _print_status(backend.status())
    return 0


def cmd_launch(args: argparse.Namespace) -> int:
    """binder/start's background step: `up` with one retry, a status file, the output in a log."""
    backend = backend_for(args)
    log = Path(args.log) if args.log else launch.default_log()
    return launch.run(lambda: backend.up(progress=print), log, args.attempts)


def cmd_down(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    stopped = backend_for(args).down(purge=args.purge)
    what = ", ".join(stopped) if stopped else "nothing was running"
    purged = "; data removed" if args.purge else ""
    print(f"Stopped: {what} ({time.monotonic() - t0:.1f} s){purged}.")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    status = backend_for(args).status()
    if args.json:
        print(json.dumps(status.to_json(), indent=2))
    else:
        _print_status(status)
    return 0 if status.healthy else 3


def cmd_ps(_: argparse.Namespace) -> int:
    """Every process of the course's native brokers, found by its tag, recorded or not."""
    for proc in processes.owned(settings.data_dir() / "run"):
        try:
            node = Path(proc.environ().get(processes.TAG, proc.cwd()))
            print(f"{proc.pid:>8}  {node.parent.name}/{node.name:12s} {' '.join(proc.cmdline())[:120]}")
        except psutil.Error:
            continue
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    """Print which brokers already answer (native, compose, external, none); with --env, then the
    variables that point the course at them, one VAR=value per line."""
    from brokerlab.brokers import detect

    found = detect.detect()
    print(found)
    for key, value in (detect.environment(found) if args.env else {}).items():
        print(f"{key}={value}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    checks = doctor.run_checks(args.port_offset)
    for check in checks:
        mark = "ok " if check.ok else "FIX"
        print(f"[{mark}] {check.name}: {check.detail}")
        if not check.ok and check.fix:
            print(f"      → {check.fix}")
    failed = [c for c in checks if not c.ok]
    print("All good." if not failed else f"{len(failed)} problem(s) to fix.")
    return 0 if not failed else 1


def cmd_fetch(_: argparse.Namespace) -> int:
    cache = settings.data_dir() / "cache"
    cached = maven.KAFKA.cached(cache)
    path = maven.KAFKA.ensure(cache)
    print(f"Kafka {maven.KAFKA.version()} jars {'already cached' if cached else 'cached'} in {path}")
    return 0


def cmd_book(args: argparse.Namespace) -> int:
    from brokerlab.course import book  # nbconvert is slow to import: only for this command

    out = Path(args.out)
    pages = book.build([Path(n) for n in args.notebooks], out)
    failed = [p.notebook for p in pages if p.error]
    total = sum(p.seconds for p in pages)
    print(f"{len(pages)} page(s) in {total:.0f} s → {out / 'index.html'}"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def cmd_progress(args: argparse.Namespace) -> int:
    rows = checks.status_report()
    measured = claims.results()
    if args.json:
        print(json.dumps({"exercises": rows,
                          "claims": {c.id: measured[c.id].verdict if c.id in measured else None
                                     for c in claims.CLAIMS}}, indent=2))
        return 0
    for status in ("passed", "attempted, not passed", "not attempted"):
        group = [r for r in rows if r["status"] == status]
        print(f"{status.capitalize()} ({len(group)}):")
        for r in group:
            tries = f" ({r['attempts']} attempt(s))" if r["attempts"] else ""
            print(f"  {r['exercise']}{tries}")
    print(f"The article's claims: {len(measured)} of {len(claims.CLAIMS)} measured on this machine.")
    for c in claims.CLAIMS:
        result = measured.get(c.id)
        verdict = result.verdict.upper() if result else "not measured"
        print(f"  {c.topic:40s} {verdict:13s} → {c.tested_in}")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    ep = settings.endpoints()
    prefix = settings.namespace()
    if not prefix and ep.source == "environment":
        raise BrokerlabError(
            "Refusing to reset a cluster named by environment variables without a namespace: it "
            "would delete everyone's topics and queues.",
            "Set BROKERLAB_NAMESPACE to your prefix (e.g. alice-) and run it again.")
    found = {**cleanup.kafka(ep, prefix, dry_run=not args.yes),
             **cleanup.rabbitmq(ep, prefix, dry_run=not args.yes)}
    scope = f"names starting with {prefix!r}" if prefix else "every non-internal name"
    verb = "Deleted" if args.yes else "Would delete"
    for kind, names in found.items():
        print(f"{verb} {len(names)} {kind} ({scope}){': ' + ', '.join(names) if names else ''}")
    if args.progress and args.yes:
        shutil.rmtree(settings.progress_dir(), ignore_errors=True)
        print("Deleted your recorded progress and claim verdicts.")
    if not args.yes:
        print("Nothing deleted yet: run `brokerlab reset --yes` to do it.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="brokerlab", description="Start, stop and inspect the course's Kafka and RabbitMQ.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--backend", choices=["native", "compose"], default=None,
                       help="where brokers run (default: $BROKERLAB_BACKEND or native)")
        p.add_argument("--port-offset", type=int, default=None,
                       help="shift every port by N (native backend) when the defaults are taken")

    def add_commands(target: argparse._SubParsersAction, cluster: bool = False,
                     rabbitmq4: bool = False) -> None:
        where = {"cluster": cluster, "rabbitmq4": rabbitmq4}
        p = target.add_parser("up", help="start the brokers and wait for a real round trip")
        common(p)
        p.set_defaults(func=cmd_up, **where)
        p = target.add_parser("down", help="stop the brokers")
        common(p)
        p.add_argument("--purge", action="store_true", help="also delete their data")
        p.set_defaults(func=cmd_down, **where)
        p = target.add_parser("status", help="show what runs, where, and its memory")
        common(p)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=cmd_status, **where)

    add_commands(sub)
    cl = sub.add_parser("cluster", help="the 3-node Kafka and RabbitMQ clusters for the labs")
    add_commands(cl.add_subparsers(dest="cluster_command", required=True), cluster=True)
    p = sub.add_parser("launch", help="up with one retry, output to a log and a status file "
                                      "notebook 00 reads (what binder/start runs)")
    common(p)
    p.add_argument("--attempts", type=int, default=launch.ATTEMPTS, help="tries in all (default: 2)")
    p.add_argument("--log", default=None, help="where the output goes (default: <data dir>/run/launch.log)")
    p.set_defaults(func=cmd_launch, cluster=False)
    r4 = sub.add_parser("rabbitmq4", help="Kafka + RabbitMQ 4 from a Debian 13 root under chroot "
                                          "(make test-rabbitmq4)")
    add_commands(r4.add_subparsers(dest="rabbitmq4_command", required=True), rabbitmq4=True)
    p = sub.add_parser("ps", help="every process of the course's brokers (with a record or not)")
    p.set_defaults(func=cmd_ps)
    p = sub.add_parser("detect", help="which brokers already answer: native, compose, external or none")
    p.add_argument("--env", action="store_true", help="print the variables that point the course at them")
    p.set_defaults(func=cmd_detect)
    p = sub.add_parser("doctor", help="check Java, rabbitmq-server, jars, ports, memory, disk")
    p.add_argument("--port-offset", type=int, default=None)
    p.set_defaults(func=cmd_doctor)
    p = sub.add_parser("progress", help="exercises passed and the article's claims you measured")
    p.add_argument("--json", action="store_true", help="one record per exercise, for a class dashboard")
    p.set_defaults(func=cmd_progress)
    p = sub.add_parser("reset", help="delete every topic, group, queue and exchange the course made")
    p.add_argument("--yes", action="store_true", help="really delete (default: show what would go)")
    p.add_argument("--progress", action="store_true", help="also forget recorded progress")
    p.set_defaults(func=cmd_reset)
    p = sub.add_parser("book", help="execute the notebooks against the brokers into a read-only HTML site")
    p.add_argument("notebooks", nargs="*", help="notebooks to include (default: every lesson and lab)")
    p.add_argument("--out", default="build/book", help="output folder (default: build/book)")
    p.set_defaults(func=cmd_book)
    p = sub.add_parser("fetch", help="resolve and cache the pinned Kafka jars (needs Maven)")
    p.set_defaults(func=cmd_fetch)
    bench_cli.add_parser(sub)
    return parser


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwind exactly as Ctrl+C does, so whatever started is stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, _frame: object) -> None:
    raise Terminated(signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_terminated)
    try:
        return args.func(args)
    except Terminated as exc:
        print(f"\nStopped by {signal.Signals(exc.signum).name}: everything this command started has "
              "been stopped.", file=sys.stderr)
        return 128 + exc.signum
    except BrokerlabError as exc:
        print(f"error: {exc.problem}", file=sys.stderr)
        if exc.fix:
            print(f"  → {exc.fix}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted: everything this command started has been stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`brokerlab status | head`): no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
