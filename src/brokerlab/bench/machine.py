"""The machine's own limits, measured in the same run: loopback TCP, the disk's fsync, versions.

A broker cannot beat the loopback socket the bytes cross, and an fsync-per-write durability
setting cannot beat the disk's fsync latency. Printing both first explains the numbers after.
"""

from __future__ import annotations

import os
import platform
import socket
import time
from pathlib import Path

import psutil

from brokerlab.bench.procs import Sync, run_one

CHUNK = 64 * 1024


def fsync_latency(directory: Path, samples: int = 200, block: int = 4096) -> dict:
    """Write + fsync ``samples`` blocks of ``block`` bytes in ``directory``; latency percentiles (ms)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f".fsync-probe-{os.getpid()}"
    data = os.urandom(block)
    times: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(samples):
            t0 = time.perf_counter_ns()
            os.write(fd, data)
            os.fsync(fd)
            times.append((time.perf_counter_ns() - t0) / 1e6)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    times.sort()

    def pct(p: float) -> float:
        return round(times[min(len(times) - 1, int(p / 100 * len(times)))], 3)

    return {"directory": str(directory), "samples": samples, "block_bytes": block,
            "min_ms": round(times[0], 3), "p50_ms": pct(50), "p99_ms": pct(99),
            "max_ms": round(times[-1], 3),
            "fsyncs_per_s_at_p50": round(1000 / max(pct(50), 1e-6))}


def _receiver(params: dict, _sync: Sync) -> dict:
    with socket.create_server(("127.0.0.1", 0)) as server:
        params["port_conn"].send(server.getsockname()[1])
        server.settimeout(30)
        conn, _ = server.accept()
        with conn:
            conn.settimeout(30)
            total, t0 = 0, None
            buf = bytearray(CHUNK)
            while total < params["nbytes"]:
                n = conn.recv_into(buf)
                if n == 0:
                    break
                if t0 is None:
                    t0 = time.perf_counter()
                total += n
            seconds = time.perf_counter() - (t0 or time.perf_counter())
    return {"bytes": total, "seconds": seconds}


def _sender(params: dict, _sync: Sync) -> dict:
    data = os.urandom(CHUNK)
    with socket.create_connection(("127.0.0.1", params["port"]), timeout=30) as conn:
        sent = 0
        while sent < params["nbytes"]:
            conn.sendall(data)
            sent += CHUNK
    return {"bytes": sent}


def loopback_throughput(megabytes: int = 256) -> dict:
    """MiB/s through a 127.0.0.1 TCP socket between two processes (the brokers' transport here)."""
    from threading import Thread

    from brokerlab.bench.procs import context

    nbytes = megabytes * 2**20
    parent_end, child_end = context().Pipe()
    out: dict = {}
    recv = Thread(target=lambda: out.update(run_one(_receiver, {"nbytes": nbytes,
                                                                 "port_conn": child_end}, 60)))
    recv.start()
    if not parent_end.poll(30):
        raise RuntimeError("the loopback receiver did not start")
    port = parent_end.recv()
    run_one(_sender, {"port": port, "nbytes": nbytes}, 60)
    recv.join(60)
    mib_s = out["bytes"] / 2**20 / max(out["seconds"], 1e-9)
    return {"megabytes": megabytes, "MiB_per_s": round(mib_s, 1),
            "msgs_per_s_at_1KiB": round(mib_s * 1024)}


def environment() -> dict:
    """CPU count and model, memory, OS, Python, client library versions, load average."""
    import confluent_kafka
    import pika

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_count": psutil.cpu_count(),
        "cpu_model": model or platform.processor(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "confluent_kafka": _version_text(confluent_kafka.version()),
        "librdkafka": _version_text(confluent_kafka.libversion()),
        "pika": pika.__version__,
    }


def _version_text(value: object) -> str:
    """confluent-kafka's version()/libversion() return (text, int) tuples."""
    return str(value[0]) if isinstance(value, tuple) else str(value)
