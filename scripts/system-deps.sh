#!/usr/bin/env bash
# Debian packages the test suite needs beyond Node: curl (the docs' own curl examples are run
# as written), chromium (the inbox page's browser tests; Playwright cannot download its own
# browser here), redis-server (the queue's tests start their own on a free port), and python3
# and php-cli (the emulator's any-language guide runs its examples with their standard
# libraries only). Installs
# only what is missing, so it is quick on a prepared machine.
set -euo pipefail
need=()
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v php >/dev/null 2>&1 || need+=(php-cli)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: missing ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
