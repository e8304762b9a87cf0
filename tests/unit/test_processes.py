"""Process plumbing: PID files that survive crashes and PID reuse, stopping whole trees."""

import os
import subprocess
import sys

import psutil
import pytest

from brokerlab.brokers import processes
from brokerlab.brokers.ports import is_free, is_open, require_free
from brokerlab.errors import BrokerlabError
from brokerlab.waiting import wait_for

IGNORE_TERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"


def sleeper(tmp_path, code="import time; time.sleep(60)"):
    return processes.spawn([sys.executable, "-c", code], tmp_path / "x.log", os.environ, tmp_path)


def test_spawn_tags_records_and_finds_the_process(tmp_path):
    proc = sleeper(tmp_path, "print('hello from child', flush=True); import time; time.sleep(30)")
    try:
        processes.write_pidfile(tmp_path / "pid.json", proc)
        assert processes.read_pidfile(tmp_path / "pid.json").process().pid == proc.pid
        assert os.getsid(proc.pid) == proc.pid  # own session: the terminal's Ctrl+C does not reach it
        assert proc.environ()[processes.TAG] == str(tmp_path)
        assert [p.pid for p in processes.owned(tmp_path)] == [proc.pid]
        assert wait_for(lambda: "hello" in processes.tail(tmp_path / "x.log"), 10)
        assert not list(tmp_path.glob(".pid.json.*"))  # the atomic write left no temp file
    finally:
        processes.stop_all([proc], [proc], timeout=5)
    assert not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE


def test_identity_ignores_the_wall_clock(tmp_path, monkeypatch):
    # psutil derives create_time from the boot time, which moves when a VM's clock is stepped.
    proc = sleeper(tmp_path)
    try:
        processes.write_pidfile(tmp_path / "pid.json", proc)
        monkeypatch.setattr(psutil, "boot_time", lambda: 1e9)
        monkeypatch.setattr(psutil.Process, "create_time", lambda self: 1e9 + 12345.0)
        assert processes.read_pidfile(tmp_path / "pid.json").process().pid == proc.pid
    finally:
        processes.stop_all([proc], [proc], timeout=5)


def test_a_dead_process_is_not_found_and_its_record_is_kept(tmp_path):
    proc = processes.spawn([sys.executable, "-c", "pass"], tmp_path / "x.log", os.environ, tmp_path)
    processes.write_pidfile(tmp_path / "pid.json", proc)
    proc.wait(10)
    assert processes.read_pidfile(tmp_path / "pid.json").process() is None
    assert (tmp_path / "pid.json").exists()  # reading never deletes: only a stop does


def test_reused_pid_is_not_mistaken_for_our_broker(tmp_path):
    me = os.getpid()
    (tmp_path / "pid.json").write_text(
        f'{{"pid": {me}, "start": {processes.start_stamp(me) - 1000}, "pgid": {os.getpgrp()}}}')
    assert processes.read_pidfile(tmp_path / "pid.json").process() is None


@pytest.mark.parametrize("text", ["not json", '{"pid": 1}', '{"pid": 1, "create_time": 5.0}'])
def test_unreadable_pidfile_is_reported_and_kept(tmp_path, text):
    (tmp_path / "pid.json").write_text(text)
    with pytest.raises(processes.UnreadablePidfile, match=r"pid\.json"):
        processes.read_pidfile(tmp_path / "pid.json")
    assert (tmp_path / "pid.json").read_text() == text


def test_owned_finds_a_reparented_child_and_ignores_others(tmp_path):
    # The parent starts a child in a new session of its own, then dies: the child is re-parented
    # to init (as beam.smp is when rabbitmq-server's script dies) but keeps the node's tag.
    script = ("import subprocess, sys; "
              "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
              "start_new_session=True); print(p.pid, flush=True)")
    parent = processes.spawn([sys.executable, "-c", script], tmp_path / "x.log", os.environ, tmp_path)
    parent.wait(10)
    child = psutil.Process(int(processes.tail(tmp_path / "x.log").split()[-1]))
    other = tmp_path.parent / (tmp_path.name + "-other")
    other.mkdir()
    stranger = processes.spawn([sys.executable, "-c", "import time; time.sleep(60)"], other / "x.log",
                               os.environ, other)
    try:
        assert child.ppid() != parent.pid
        assert [p.pid for p in processes.owned(tmp_path)] == [child.pid]
        assert processes.stop_all(processes.owned(tmp_path), timeout=1) == []
        assert processes.owned(tmp_path) == []
        assert stranger.is_running()
    finally:
        processes.stop_all([stranger], timeout=1)


def test_stop_all_kills_children_that_ignore_sigterm(tmp_path):
    script = ("import subprocess, sys, time; "
              f"subprocess.Popen([sys.executable, '-c', {IGNORE_TERM!r}]); time.sleep(60)")
    proc = processes.spawn([sys.executable, "-c", script], tmp_path / "x.log", os.environ, tmp_path)
    assert wait_for(lambda: len(proc.children()) == 1, 10)
    child = proc.children()[0]
    assert processes.stop_all(processes.tree(proc), [proc], timeout=1) == []
    assert not psutil.pid_exists(child.pid) or child.status() == psutil.STATUS_ZOMBIE


def test_stop_all_resumes_a_frozen_process_so_it_can_shut_down(tmp_path):
    proc = sleeper(tmp_path)
    proc.suspend()
    assert wait_for(lambda: processes.is_stopped(proc), 5, 0.05)
    assert processes.stop_all([proc], [proc], timeout=5) == []
    assert proc.wait(5) == -15  # it died of the SIGTERM, not of the SIGKILL


def test_a_tool_dies_with_its_parent(tmp_path):
    script = ("import subprocess, sys; from brokerlab.brokers import processes; "
              "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
              "preexec_fn=processes.die_with_parent); print(p.pid, flush=True); "
              "import time; time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = psutil.Process(int(parent.stdout.readline()))
    parent.kill()
    parent.wait(10)
    assert psutil.wait_procs([child], timeout=10)[1] == []


def test_died_while_starting_quotes_the_log(tmp_path):
    log = tmp_path / "broker.log"
    proc = processes.spawn([sys.executable, "-c", "print('FATAL: bad config'); raise SystemExit(3)"],
                           log, os.environ, tmp_path)
    proc.wait(10)
    error = processes.died_while_starting("kafka-1", proc, log)
    assert "exit code 3" in error.problem and "FATAL: bad config" in error.problem
    assert str(log) in error.fix


def test_port_checks():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert is_open(port) and not is_free(port)
        with pytest.raises(BrokerlabError, match=str(port)):
            require_free([("test", port)], "--port-offset 100")
    assert is_free(port) and not is_open(port)
