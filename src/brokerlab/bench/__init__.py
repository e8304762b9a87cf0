"""brokerlab.bench — honest benchmarks of Kafka and RabbitMQ, as lessons 06 and 07 run them.

The measurement core, one job per module:

* :mod:`~brokerlab.bench.workload` — every setting of a run; the durability ladder D0/D1/D2;
* :mod:`~brokerlab.bench.kafka_load`, :mod:`~brokerlab.bench.rabbit_load` — load generators,
  closed and open loop, each in its own process; :mod:`~brokerlab.bench.stream_load` — RabbitMQ
  streams over the stream protocol (``rstream``);
* :mod:`~brokerlab.bench.scale`, :mod:`~brokerlab.bench.scale_plots` — scaling curves:
  throughput against partitions / queues × producer processes, with CPU per process;
* :mod:`~brokerlab.bench.procs` — starting those processes over one shared measurement window;
* :mod:`~brokerlab.bench.payload`, :mod:`~brokerlab.bench.histogram` — timestamps in every
  message and HdrHistogram latency, corrected for coordinated omission (naive figure kept);
* :mod:`~brokerlab.bench.cpu` — CPU per process; client-bound or broker-bound;
* :mod:`~brokerlab.bench.native`, :mod:`~brokerlab.bench.jars` — Kafka's perf tools and
  RabbitMQ PerfTest on the same broker and workload;
* :mod:`~brokerlab.bench.machine` — loopback TCP throughput, the disk's fsync latency, versions;
* :mod:`~brokerlab.bench.runner`, :mod:`~brokerlab.bench.experiments` — N runs after a warm-up,
  median and range; the named experiments E1–E5 and ``calibrate``;
* :mod:`~brokerlab.bench.results` — the JSON result record;
* :mod:`~brokerlab.bench.plots`, :mod:`~brokerlab.bench.widgets`, :mod:`~brokerlab.bench.report`
  — what the notebooks show;
* :mod:`~brokerlab.bench.mode` — ``quick`` (CI) or ``full`` durations.

Importing this package is cheap (the CLI imports it); the modules load on use. Scripts that call
the runners must guard their entry point with ``if __name__ == "__main__":`` (the load generators
start from a multiprocessing forkserver).
"""
