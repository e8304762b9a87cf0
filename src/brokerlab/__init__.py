"""brokerlab — the plumbing of the Systems of Power course: start brokers, find them, check them.

Lessons use ``confluent_kafka`` and ``pika`` directly; this package never wraps the client API a
lesson teaches.
"""

from brokerlab.errors import BrokerlabError
from brokerlab.settings import Endpoints, endpoints, namespace, ns

__all__ = ["BrokerlabError", "Endpoints", "endpoints", "namespace", "ns"]
__version__ = "0.1.0"
