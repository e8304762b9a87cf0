"""Looking at live brokers: lag and queue metrics, queue counters, Mermaid diagrams and message
timelines, live charts, Kafka's log files, and worker processes for demonstrations."""
