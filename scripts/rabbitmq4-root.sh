#!/usr/bin/env bash
# Build, once, the Debian 13 (trixie) root that holds RabbitMQ 4 (rabbitmq-server 4.0.5 on Erlang 27)
# for `make test-rabbitmq4`: Debian 12's libc is too old for that Erlang, so the node runs under
# chroot from this root (brokerlab.brokers.rabbitmq_native.ChrootRabbitNode). Reused when complete.
# Needs root (debootstrap, chroot). Usage: scripts/rabbitmq4-root.sh [dir]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${1:-$(.venv/bin/python -c 'from brokerlab import settings; from brokerlab.brokers import native; print(native.rabbitmq4_root(settings.data_dir()))')}"
DONE="$ROOT/.brokerlab-complete"  # written last: a root without it is rebuilt
if [ -f "$DONE" ]; then exit 0; fi
[ "$(id -u)" = 0 ] || { echo "[rabbitmq4] building the root needs root (debootstrap, chroot)" >&2; exit 1; }
if ! command -v debootstrap >/dev/null; then apt-get update -q && apt-get install -y -q debootstrap; fi
# The Debian mirror apt already uses on this machine (deb822 "URIs:" or one-line "deb" entries).
MIRROR=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | grep -E '^(URIs:|deb )' | grep -v security | grep -oE 'https?://[^ ]+' | head -1 || true)
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
PARTIAL="$ROOT.partial"
# A build that was interrupted may have left debootstrap's /proc and /sys mounted in it.
unmount_under() { awk -v d="$(realpath -m "$1")" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/mounts \
  | sort -r | while read -r m; do umount -l "$m"; done; }
unmount_under "$PARTIAL"
rm -rf "$PARTIAL" "$ROOT"
mkdir -p "$(dirname "$ROOT")"
echo "[rabbitmq4] building a Debian 13 root with rabbitmq-server from $MIRROR into $ROOT (a few minutes, once)"
start=$(date +%s)
debootstrap --variant=minbase --include=rabbitmq-server trixie "$PARTIAL" "$MIRROR"
unmount_under "$PARTIAL"
[ -s "$PARTIAL/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n' > "$PARTIAL/etc/hosts"  # the node is name@localhost
rm -rf "$PARTIAL/var/cache/apt/archives/"*.deb
touch "$PARTIAL/.brokerlab-complete"
mv "$PARTIAL" "$ROOT"
version=$(chroot "$ROOT" dpkg-query -W -f '${Version}' rabbitmq-server)
echo "[rabbitmq4] root built in $(( $(date +%s) - start )) s: rabbitmq-server $version, $(du -sh "$ROOT" | cut -f1) on disk"
