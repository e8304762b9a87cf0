"""Where brokers come from: the launcher and its backends (one interface, :class:`Backend`), the
processes it runs, the 3+3 cluster of the failure labs, and the checks around them."""

from __future__ import annotations

import argparse
import os

from brokerlab.brokers.backend import Backend
from brokerlab.errors import BrokerlabError


def backend_for(args: argparse.Namespace) -> Backend:
    """The backend a CLI command acts on: ``--backend``, else ``$BROKERLAB_BACKEND``, else native."""
    from brokerlab.brokers import compose, external, native
    from brokerlab.settings import endpoints

    if getattr(args, "rabbitmq4", False):  # make test-rabbitmq4's deployment: native by nature
        return native.rabbitmq4(args.port_offset)
    name = args.backend or os.environ.get("BROKERLAB_BACKEND")
    if name is None and not args.cluster and endpoints().source == "environment":
        return external.ExternalBackend()  # the environment names a cluster: use it, start nothing
    name = name or "native"
    if name == "native":
        return native.cluster(args.port_offset) if args.cluster else native.single(args.port_offset)
    if name == "compose":
        if args.port_offset:
            raise BrokerlabError("--port-offset applies to the native backend only.",
                                 "Edit the published ports in docker-compose.yml instead.")
        return compose.ComposeBackend(cluster=args.cluster)
    raise BrokerlabError(f"Unknown backend {name!r}.", "Use --backend native or --backend compose.")
