# Reference solution — exercise "handle" (lesson 05b): settle one share-group record.
from confluent_kafka import AcknowledgeType

from brokerlab.exercises.lesson_05b_settle import MalformedRecord, TransientError


def handle(consumer, msg, process):
    """Process one share-group record and acknowledge it: accept, release or reject."""
    try:
        process(msg.value())
    except TransientError:
        consumer.acknowledge(msg, AcknowledgeType.RELEASE)  # another delivery may succeed
    except MalformedRecord:
        consumer.acknowledge(msg, AcknowledgeType.REJECT)  # no delivery ever will
    else:
        consumer.acknowledge(msg, AcknowledgeType.ACCEPT)
