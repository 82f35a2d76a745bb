#!/usr/bin/env bash
# System packages for the deployment layer's tests: Debian's Docker engine and image
# registry (Docker storage, Docker agent), and git (Git storage). Idempotent: does nothing
# when all are installed. Nothing is started here; tests/support/docker.py starts dockerd
# and the registry itself and stops them by PID.
set -euo pipefail
if command -v dockerd >/dev/null 2>&1 && command -v docker-registry >/dev/null 2>&1 \
  && command -v git >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends docker.io docker-registry git >/dev/null
