"""The brokers' own benchmark tools on the same broker and workload, and parsers of their output.

* Kafka ``ProducerPerformance`` — last line: ``N records sent, R records/sec (M MB/sec),
  A ms avg latency, X ms max latency, p50 ms 50th, p95 ms 95th, p99 ms 99th, p999 ms 99.9th.``
  ("MB" there is MiB: bytes / 1024 / 1024.)
* Kafka ``ConsumerPerformance`` — a CSV header and one row (``nMsg.sec``, ``fetch.nMsg.sec``…).
* RabbitMQ PerfTest — one line per second (``sent``, ``confirmed``, ``received`` msg/s) and a
  summary (``sending rate avg``, ``receiving rate avg``, latency min/median/75th/95th/99th in µs);
  both its default and its ``-mf compact`` formats are understood.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import time

from brokerlab.bench import jars
from brokerlab.bench.cpu import CpuReport, CpuSampler
from brokerlab.brokers import processes
from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints

_PP_FINAL = re.compile(
    r"(?P<records>\d+) records sent, (?P<rate>[\d.]+) records/sec \((?P<mib>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th, (?P<p999>\d+) ms 99.9th")
_PP_WINDOW = re.compile(
    r"^(?P<records>\d+) records sent, (?P<rate>[\d.]+) records/sec \([\d.]+ MB/sec\), "
    r"[\d.]+ ms avg latency, [\d.]+ ms max latency\.?\s*$", re.MULTILINE)
_PT_DEFAULT = re.compile(
    r"time:? (?P<t>[\d.]+) ?s, sent: (?P<sent>\d+) msg/s"
    r"(?:, confirmed: (?P<confirmed>\d+) msg/s)?(?:, nacked: (?P<nacked>\d+) msg/s)?"
    r"(?:, received: (?P<received>\d+) msg/s)?")
_PT_COMPACT_ROW = re.compile(r"^\s*(?P<t>[\d.]+)s\s+(?P<rest>.*)$")
_PT_RATE = re.compile(r"(?P<kind>sending|receiving) rate avg: (?P<rate>\d+) msg/s")
_PT_LAT = re.compile(
    r"(?P<kind>consumer|confirm) latency min/median/75th/95th/99th:? "
    r"(?P<v>\d+/\d+/\d+/\d+/\d+) µs")


def parse_producer_performance(text: str) -> dict:
    """The summary line of ProducerPerformance (the last line with percentiles)."""
    matches = list(_PP_FINAL.finditer(text))
    if not matches:
        raise ValueError("no ProducerPerformance summary line found in its output:\n" + text[-500:])
    m = matches[-1]
    # Every 5 s it also prints the rate of that window; past the first (JVM warm-up) they show
    # the steady state. Without two windows the whole-run figure is all there is.
    windows = [float(w["rate"]) for w in _PP_WINDOW.finditer(text)]
    steady = statistics.fmean(windows[1:]) if len(windows) >= 2 else float(m["rate"])
    return {"records": int(m["records"]), "msgs_per_s": float(m["rate"]),
            "window_rates": windows, "steady_msgs_per_s": steady,
            "MiB_per_s": float(m["mib"]), "avg_ms": float(m["avg"]), "max_ms": float(m["max"]),
            "p50_ms": float(m["p50"]), "p95_ms": float(m["p95"]), "p99_ms": float(m["p99"]),
            "p999_ms": float(m["p999"])}


def parse_consumer_performance(text: str) -> dict:
    """ConsumerPerformance's CSV header and its (last) data row, as numbers where possible."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if line.startswith("start.time") and i + 1 < len(lines):
            names = [n.strip() for n in line.split(",")]
            values = [v.strip() for v in lines[-1].split(",")]
            if len(values) != len(names):
                break
            row: dict = {}
            for n, v in zip(names, values, strict=True):
                try:
                    row[n] = float(v)
                except ValueError:
                    row[n] = v
            row["msgs_per_s"] = row.get("fetch.nMsg.sec", row.get("nMsg.sec"))
            return row
    raise ValueError("no ConsumerPerformance result row found in its output:\n" + text[-500:])


def parse_perftest(text: str) -> dict:
    """PerfTest's per-second samples and summary. ``steady_msgs_per_s`` drops the first second
    (JVM warm-up) and averages the rest of the confirmed (or, without confirms, sent) rates."""
    samples: list[dict] = []
    header: list[str] = []
    for line in text.splitlines():
        m = _PT_DEFAULT.search(line)
        if m:
            samples.append({k: float(v) for k, v in m.groupdict().items() if v is not None})
            continue
        if line.strip().startswith("time") and "sent" in line and "msg/s" not in line:
            header = [h for h in line.split() if h in ("sent", "confirmed", "nacked", "received")]
            continue
        row = _PT_COMPACT_ROW.match(line)
        if header and row and "msg/s" in line:
            rates = [float(x) for x in re.findall(r"(\d+) msg/s", row["rest"])]
            samples.append({"t": float(row["t"]), **dict(zip(header, rates, strict=False))})
    summary: dict = {}
    for m in _PT_RATE.finditer(text):
        summary[f"{m['kind']}_rate_avg"] = float(m["rate"])
    for m in _PT_LAT.finditer(text):
        vals = [int(x) / 1000 for x in m["v"].split("/")]
        summary[f"{m['kind']}_latency_ms"] = dict(zip(("min", "p50", "p75", "p95", "p99"), vals,
                                                      strict=True))
    if not samples and not summary:
        raise ValueError("no PerfTest samples or summary found in its output:\n" + text[-500:])
    steady = samples[1:] if len(samples) > 1 else samples
    key = "confirmed" if steady and "confirmed" in steady[0] else "sent"
    summary["samples"] = samples
    summary["steady_msgs_per_s"] = statistics.fmean(s[key] for s in steady) if steady else None
    summary["steady_received_per_s"] = (statistics.fmean(s["received"] for s in steady)
                                        if steady and "received" in steady[0] else None)
    summary["rate_basis"] = key
    return summary


def _run_tool(cmd: list[str], timeout: float, brokers: dict[str, list[int]], name: str,
              env: dict[str, str] | None = None) -> tuple[str, CpuReport, float]:
    """Run a tool, sampling CPU of its JVM and the brokers; returns (stdout+stderr, cpu, seconds).

    ``env`` adds variables to the tool's environment (secrets go there, never into argv)."""
    sampler = CpuSampler({n: ("broker", pids) for n, pids in brokers.items()}).start()
    t0 = time.monotonic()
    # The JVM dies with its parent (a killed kernel, a closed terminal) and on Ctrl+C.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})}, preexec_fn=processes.die_with_parent)
    sampler.add(name, "client", proc.pid)
    sampler.mark_start()
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise BrokerlabError(f"{name} did not finish within {timeout:.0f} s:\n{out[-1500:]}",
                             "Check the brokers: `brokerlab status`.") from None
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        sampler.mark_end()
    cpu = sampler.stop()
    if proc.returncode != 0:
        raise BrokerlabError(f"{name} exited with {proc.returncode}:\n{out[-1500:]}",
                             "Check the brokers: `brokerlab status`.")
    return out, cpu, time.monotonic() - t0


def producer_performance(ep: Endpoints, topic: str, records: int, size: int, props: dict,
                         brokers: dict[str, list[int]], rate: int = -1) -> dict:
    """One ProducerPerformance run; its parsed summary, the CPU report and the raw output."""
    jar_dir = jars.kafka_tool_jars()
    prop_args = [f"bootstrap.servers={ep.kafka_bootstrap_servers}",
                 *(f"{k}={v}" for k, v in props.items())]
    cmd = jars.java_command(jar_dir, jars.PRODUCER_PERFORMANCE, "--topic", topic,
                            "--num-records", str(records), "--record-size", str(size),
                            "--throughput", str(rate), "--command-property", *prop_args)  # Kafka 4.2+ name
    out, cpu, seconds = _run_tool(cmd, 300, brokers, "ProducerPerformance")
    return {**parse_producer_performance(out), "cpu": cpu.as_dict(), "wall_s": seconds,
            "command": cmd[cmd.index(jars.PRODUCER_PERFORMANCE):], "output": out[-2000:]}


def consumer_performance(ep: Endpoints, topic: str, messages: int, group: str,
                         brokers: dict[str, list[int]]) -> dict:
    """One ConsumerPerformance run reading ``messages`` from ``topic`` as consumer group ``group``."""
    cmd = jars.java_command(jars.kafka_tool_jars(), jars.CONSUMER_PERFORMANCE, "--bootstrap-server",
                            ep.kafka_bootstrap_servers, "--topic", topic, "--num-records",  # 4.2+ name
                            str(messages), "--group", group, "--timeout", "10000")
    out, cpu, seconds = _run_tool(cmd, 300, brokers, "ConsumerPerformance")
    return {**parse_consumer_performance(out), "cpu": cpu.as_dict(), "wall_s": seconds,
            "command": cmd[cmd.index(jars.CONSUMER_PERFORMANCE):], "output": out[-2000:]}


def perftest_arguments(ep: Endpoints, queue: str, seconds: int, workload: dict) -> list[str]:
    """PerfTest flags equivalent to a :class:`~brokerlab.bench.workload.Workload` (as a dict).

    The broker's URL, which holds the password, is not among them: :func:`perftest` hands it over
    in the environment variable ``URI``, which PerfTest reads for its ``--uri`` option."""
    w = workload
    args = ["-u", queue, "-ad", "false", "-st", "1", "-x", "1",
            "-y", "1" if w["consumer"] else "0", "-s", str(w["size"]), "-z", str(seconds)]
    if w["publish_mode"] == "pipelined":
        args += ["-c", str(w["confirm_window"])]
    elif w["publish_mode"] == "each-confirm":
        args += ["-c", "1"]
    if w["persistent"]:
        args += ["-f", "persistent"]
    args += {"quorum": ["-qq"], "stream": ["-sq"]}.get(w["queue_type"], [])
    if w["auto_ack"]:
        args += ["-a"]
    if w["prefetch"]:
        args += ["-q", str(w["prefetch"])]
    if w["rate"]:
        args += ["-r", str(w["rate"])]
    return args


def perftest(ep: Endpoints, queue: str, seconds: int, workload: dict,
             brokers: dict[str, list[int]]) -> dict:
    """One PerfTest run; its parsed per-second samples and summary, CPU report, raw output."""
    args = perftest_arguments(ep, queue, seconds, workload)
    cmd = jars.java_command(jars.perftest_jars(), jars.PERFTEST_MAIN, *args)
    out, cpu, wall = _run_tool(cmd, seconds + 60, brokers, "PerfTest", env={"URI": ep.rabbitmq_url})
    return {**parse_perftest(out), "cpu": cpu.as_dict(), "wall_s": wall,
            "command": [jars.PERFTEST_MAIN, *args], "output": out[-2000:]}
