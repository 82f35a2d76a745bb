#!/usr/bin/env bash
# System packages for the web UI's end-to-end tests (tests/ui): Debian's headless-capable
# Chromium, driven by Playwright for Python through executable_path=/usr/bin/chromium
# (Playwright's own browser download cannot work without internet). Idempotent: does
# nothing when chromium is already installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
