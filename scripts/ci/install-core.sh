#!/usr/bin/env bash
# System packages for the model layer's tests: graphviz's `dot`, so flow.visualize() is
# rendered to a file (tests/core/test_visualize.py). Idempotent: nothing to do when present.
set -euo pipefail
if command -v dot >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends graphviz >/dev/null
