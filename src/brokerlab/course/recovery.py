"""What notebook 00 tells a learner whose brokers do not answer: what happened, and the one command
that fixes it in the terminal that environment has (native checkout, Binder, Compose, a named
cluster)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import psutil

from brokerlab import settings
from brokerlab.brokers import launch
from brokerlab.settings import Endpoints

BINDER_TERMINAL = "Open a terminal (File → New → Terminal) and run:"


def environment(ep: Endpoints) -> str:
    """'external', 'compose', 'binder' or 'native': where this kernel's brokers come from."""
    if ep.source == "environment":
        return "external"
    if os.environ.get("BROKERLAB_BACKEND") == "compose":
        return "compose"
    if launch.read_status() is not None or os.environ.get("BINDER_LAUNCH_HOST"):
        return "binder"
    return "native"


def hint(ep: Endpoints) -> str:
    """The recovery message for this environment (only shown when a broker is unreachable)."""
    return {"external": _external, "compose": _compose, "binder": _binder, "native": _native}[
        environment(ep)](ep)


def _external(ep: Endpoints) -> str:
    amqp = urlsplit(ep.rabbitmq_url)  # never print the password
    return ("These brokers are named by environment variables, so nothing here starts them: "
            f"KAFKA_BOOTSTRAP_SERVERS={ep.kafka_bootstrap_servers}, RABBITMQ_URL (host "
            f"{amqp.hostname}:{amqp.port or 5672}), RABBITMQ_MANAGEMENT_URL={ep.rabbitmq_management_url}.\n"
            "What to do: check the names and ask whoever runs that cluster; `brokerlab status` "
            "tries both. Unset the three variables to use the course's own brokers instead.")


def _compose(_ep: Endpoints) -> str:
    return ("The brokers run in Docker (BROKERLAB_BACKEND=compose).\n"
            "What to do: in a terminal, in the course folder, run `docker compose up -d --wait` "
            "(Docker Engine 25+), then re-run this cell. `docker compose ps` shows their state, "
            "`docker compose logs kafka rabbitmq` why one stopped.")


def _binder(_ep: Endpoints) -> str:
    status = launch.read_status()
    if status is None:
        return ("The launch script (binder/start) did not start the brokers.\n"
                f"What to do: {BINDER_TERMINAL} brokerlab up")
    if status.state == "starting" and _alive(status.pid):
        return (f"The brokers are still starting (attempt {status.attempt} of {status.attempts}; "
                "usually ready about 15 s after the page opens).\n"
                f"What to do: wait a few seconds and re-run this cell. Progress: {status.log}")
    if status.state == "failed":
        return (f"Starting the brokers failed at launch, {status.attempts} times: {status.error}\n"
                f"The start log: {status.log}\n"
                f"What to do: {BINDER_TERMINAL} brokerlab up   (it says what is wrong; "
                "`brokerlab doctor` checks memory and ports).")
    happened = ("The launch was interrupted before the brokers were up" if status.state == "starting"
                else "The brokers started at launch but do not answer now (stopped, or killed when "
                     "the container ran out of memory: `brokerlab doctor` shows the limit)")
    return (f"{happened}. The start log: {status.log}\n"
            f"What to do: {BINDER_TERMINAL} brokerlab up")


def _native(_ep: Endpoints) -> str:
    root = settings.project_root()
    logs = settings.data_dir() / "run" / "single"
    if root is not None and (root / ".venv").is_dir():
        command = f"`make up` in a terminal in {root} (or `.venv/bin/brokerlab up`)"
    else:
        command = "`brokerlab up` in a terminal"
    return (f"What to do: start the brokers with {command}, then re-run this cell. "
            f"`brokerlab status` shows what runs; each broker's log is under {logs}.\n"
            "Using another cluster? Set KAFKA_BOOTSTRAP_SERVERS, RABBITMQ_URL and "
            "RABBITMQ_MANAGEMENT_URL before starting JupyterLab.")


def _alive(pid: int | None) -> bool:
    return pid is not None and psutil.pid_exists(pid)
