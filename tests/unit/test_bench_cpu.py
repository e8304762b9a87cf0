"""CPU per process and the client-bound / broker-bound verdict."""

import subprocess
import sys
import time

import pytest

from brokerlab.bench.cpu import CpuReport, CpuSampler, ProcessCpu, classify


def report(client, broker, machine=0.3):
    return classify(CpuReport([ProcessCpu("producer", "client", client),
                               ProcessCpu("kafka broker", "broker", broker)], machine, 2))


@pytest.mark.parametrize(("client", "broker", "machine", "bound"), [
    (0.97, 0.40, 0.70, "client-bound"),
    (0.97, 1.60, 1.00, "client-bound"),  # the client cannot go faster, whatever else is busy
    (0.30, 0.92, 0.70, "broker-bound"),
    (0.30, 0.50, 0.95, "machine-saturated"),
    (0.10, 0.20, 0.20, "waiting"),
])
def test_classification(client, broker, machine, bound):
    got = report(client, broker, machine)
    assert got.bound == bound
    assert got.reason


def test_reason_names_the_saturated_process():
    assert "producer used 97%" in report(0.97, 0.1).reason
    assert "kafka broker used 92%" in report(0.1, 0.92).reason


def test_no_processes_at_all_is_not_a_crash():
    assert classify(CpuReport([], 0.1, 2)).bound == "waiting"


def test_sampler_sees_a_spinning_and_a_sleeping_process():
    spin = subprocess.Popen([sys.executable, "-c", "import time\nt=time.time()\nwhile time.time()-t<3: pass"])
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
    try:
        sampler = CpuSampler({"spinner": ("client", [spin.pid]), "sleeper": ("broker", [idle.pid])},
                             interval=0.1).start()
        time.sleep(0.3)
        sampler.mark_start()
        time.sleep(1.0)
        sampler.mark_end()
        got = {p.name: p for p in sampler.stop().processes}
    finally:
        spin.kill()
        idle.kill()
        spin.wait()
        idle.wait()
    # On a busy machine a spinner gets less than a core; it still gets far more than a sleeper.
    assert got["spinner"].cores > 0.05 and got["spinner"].peak_cores >= got["spinner"].cores
    assert got["sleeper"].cores < 0.05
    assert got["spinner"].role == "client" and got["sleeper"].role == "broker"


def test_a_process_that_exits_keeps_its_last_reading():
    """It burns 0.4 s of CPU and exits inside the window: without its last reading kept, the
    sampler would count nothing for it (psutil can no longer read a process that is gone)."""
    burn = "import time\nwhile time.process_time() < 0.4: pass"
    proc = subprocess.Popen([sys.executable, "-c", burn])
    sampler = CpuSampler({"short": ("client", [proc.pid])}, interval=0.05).start()
    sampler.mark_start()
    t0 = time.monotonic()
    proc.wait()
    time.sleep(0.3)
    sampler.mark_end()
    window = time.monotonic() - t0
    rep = sampler.stop()
    cpu_seconds = rep.processes[0].cores * window
    assert 0.25 < cpu_seconds < 0.6, (rep.processes[0], window)
