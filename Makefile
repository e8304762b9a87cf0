# The two commands of the README: `make lab` (run the course) and `make test` (run every test).
SHELL := /bin/bash
BL := .venv/bin/brokerlab
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup lab lab-docker test test-fast test-slow test-full-bench test-binder test-rabbitmq4 soak book up down status doctor cluster-up cluster-down strip lint clean

setup:            ## venv, package, Kafka jars, and (as root on Debian/Ubuntu) Java + rabbitmq-server
	@scripts/setup.sh

lab:              ## set up, use the brokers that already answer (Docker, yours) or start the course's own, JupyterLab
	@scripts/lab.sh

lab-docker:       ## brokers from Docker Compose (Docker Engine 25+), JupyterLab from .venv: no Java, no native brokers
	@scripts/setup.sh --python-only
	docker compose up -d --wait
	BROKERLAB_BACKEND=compose .venv/bin/jupyter lab --ip=127.0.0.1 $(ALLOW_ROOT) notebooks/00_welcome_and_setup_check.ipynb

test:             ## set up, start brokers, lint + unit + integration + nbval over notebooks/ and labs/, in lanes side by side (scripts/test.sh)
	@scripts/setup.sh --test
	@scripts/test.sh

test-fast:        ## lint + the unit tier: no broker, under a minute (after `make setup` once)
	.venv/bin/ruff check src tests notebooks labs conftest.py
	.venv/bin/pytest -m "not integration and not cluster" -q -p no:cacheprovider tests

test-slow:        ## the slow and repeated proofs outside `make test`: launcher faults, two learners at once
	@scripts/setup.sh --test
	@TEST_MARKERS=slow TEST_TARGETS=tests TEST_CLUSTER=0 scripts/test.sh

test-full-bench:  ## notebooks 06 and 07 under nbval in full mode (the learner's durations), outside `make test`
	@scripts/setup.sh --test
	@BROKERLAB_BENCH_MODE=full TEST_CLUSTER=0 \
	  TEST_TARGETS="notebooks/06_throughput_benchmarks.ipynb notebooks/07_latency_benchmarks.ipynb" scripts/test.sh

test-binder:      ## the Binder launch as repo2docker runs it, as a new non-root user (needs root, as CI has)
	@scripts/setup.sh --test
	.venv/bin/pytest -m binder -p no:cacheprovider tests/binder

test-rabbitmq4:   ## lessons 00-05, 05b + single-node labs on RabbitMQ 4.0.5 (Debian 13 root, chroot; root user), outside `make test`
	@scripts/setup.sh --test
	@scripts/test-rabbitmq4.sh

soak:             ## labs 03, 06 and 08 (they kill, restart, add and remove nodes) five times in a row, outside `make test`
	@scripts/setup.sh --test
	@TEST_ROUNDS=5 TEST_TARGETS="labs/03_acks_and_replication.ipynb labs/06_quorum_queues_node_failure.ipynb labs/08_scale_out.ipynb" \
	  scripts/test.sh

book: setup up    ## every lesson and lab executed against the brokers → build/book/index.html
	@$(BL) book

up:
	@$(BL) up

down:
	@$(BL) down

status:
	@$(BL) status

doctor:
	@$(BL) doctor

cluster-up:
	@$(BL) cluster up

cluster-down:
	@$(BL) cluster down

strip:            ## remove outputs from every notebook before committing
	.venv/bin/nbstripout $(wildcard notebooks/*.ipynb labs/*.ipynb labs/solutions/*.ipynb)

lint:
	.venv/bin/ruff check src tests notebooks labs conftest.py

clean:            ## stop everything and delete broker data (keeps the jar cache and the RabbitMQ 4 root)
	-@$(BL) cluster down --purge
	-@$(BL) down --purge
	-@$(BL) rabbitmq4 down --purge
