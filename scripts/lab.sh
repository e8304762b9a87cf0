#!/usr/bin/env bash
# make lab: set up, use the brokers that already answer or start the course's own, open JupyterLab.
# Brokers from Docker (`docker compose up -d --wait`) or anyone's on the default endpoints are used
# as they are: then neither Java nor rabbitmq-server is needed (brokerlab detect, brokers/detect.py).
set -euo pipefail
cd "$(dirname "$0")/.."
BL=.venv/bin/brokerlab

scripts/setup.sh --python-only
found=$($BL detect --env)
while IFS='=' read -r key value; do
  [ -n "$value" ] && export "$key=$value"
done <<< "$found"
case "${found%%$'\n'*}" in
  native|none)
    scripts/setup.sh  # Java, rabbitmq-server and the Kafka jars, when missing
    $BL up ;;
  compose)
    echo "[lab] the course's Docker Compose brokers answer: using them (BROKERLAB_BACKEND=compose)" ;;
  external)
    echo "[lab] Kafka and RabbitMQ already answer on the default endpoints: using them, starting nothing"
    echo "      (stop them and run make lab again to get the course's own brokers)" ;;
esac
allow_root=()
[ "$(id -u)" = 0 ] && allow_root=(--allow-root)
exec .venv/bin/jupyter lab --ip=127.0.0.1 "${allow_root[@]}" notebooks/00_welcome_and_setup_check.ipynb
