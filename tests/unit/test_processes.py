"""Process plumbing: PID files that survive crashes and PID reuse, stopping whole trees."""

import os
import sys

import psutil
import pytest

from brokerlab import processes
from brokerlab.errors import BrokerlabError
from brokerlab.ports import is_free, is_open, require_free

IGNORE_TERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"


def test_spawn_writes_log_and_pidfile(tmp_path):
    proc = processes.spawn([sys.executable, "-c", "print('hello from child'); import time; time.sleep(30)"],
                           tmp_path / "x.log", os.environ, tmp_path)
    try:
        processes.write_pidfile(tmp_path / "pid.json", proc)
        assert processes.live_process(tmp_path / "pid.json").pid == proc.pid
        assert os.getsid(proc.pid) == proc.pid  # own session: the terminal's Ctrl+C does not reach it
        assert processes.wait_until(lambda: "hello" in processes.tail(tmp_path / "x.log"), 10)
    finally:
        processes.stop_tree(proc, timeout=5)
    assert not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE


def test_stale_pidfile_is_detected_and_removed(tmp_path):
    proc = processes.spawn([sys.executable, "-c", "pass"], tmp_path / "x.log", os.environ, tmp_path)
    processes.write_pidfile(tmp_path / "pid.json", proc)
    proc.wait(10)
    assert processes.live_process(tmp_path / "pid.json") is None
    assert not (tmp_path / "pid.json").exists()


def test_reused_pid_is_not_mistaken_for_our_broker(tmp_path):
    me = psutil.Process()
    (tmp_path / "pid.json").write_text(f'{{"pid": {me.pid}, "create_time": {me.create_time() - 1000}}}')
    assert processes.live_process(tmp_path / "pid.json") is None


def test_garbage_pidfile_is_ignored(tmp_path):
    (tmp_path / "pid.json").write_text("not json")
    assert processes.read_pidfile(tmp_path / "pid.json") is None


def test_stop_tree_kills_children_that_ignore_sigterm(tmp_path):
    script = ("import subprocess, sys, time; "
              f"subprocess.Popen([sys.executable, '-c', {IGNORE_TERM!r}]); time.sleep(60)")
    proc = processes.spawn([sys.executable, "-c", script], tmp_path / "x.log", os.environ, tmp_path)
    assert processes.wait_until(lambda: len(proc.children()) == 1, 10)
    child = proc.children()[0]
    processes.stop_tree(proc, timeout=1)
    assert not psutil.pid_exists(child.pid) or child.status() == psutil.STATUS_ZOMBIE


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
