#!/usr/bin/env bash
# PostgreSQL 15 for the server tests (tests/support/postgres.py starts a throwaway cluster
# with initdb + pg_ctl as the `postgres` user, on 127.0.0.1, and stops it by PID).
# The machine image ships it; install only when missing. Never starts a service.
set -euo pipefail
if [ -x /usr/lib/postgresql/15/bin/initdb ] && id postgres >/dev/null 2>&1; then
  echo "postgresql 15 already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]; then
  apt-get update -q
fi
apt-get install -y -q --no-install-recommends postgresql-15
# Debian's package creates and starts a default cluster where a service manager exists;
# the tests use their own cluster, so stop the packaged one if it is running.
if command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
fi
