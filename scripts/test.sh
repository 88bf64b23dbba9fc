#!/usr/bin/env bash
# Runs every test of the workspace on a bare machine: unit, behaviour, trybuild ui tests,
# examples (built), and doc tests. Installs what the tests need first.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required: install Rust 1.95 with rustup (https://rustup.rs)" >&2
  exit 1
fi

# The shared-tier tests start their own redis-server processes on free loopback ports.
if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing redis-server (Debian package) for the shared-tier tests"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
  # The package may start a system-wide server on 6379; the tests use their own.
fi

# tests/operator_page.rs drives the operator's page in a headless chromium through
# chromedriver. Installed when missing; where it cannot be, that test says so and skips.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "installing chromium and chromium-driver (Debian packages) for the operator page test"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  if ! { $SUDO apt-get update -qq &&
         DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }; then
    echo "could not install chromium: tests/operator_page.rs will skip with its reason"
  fi
fi

cargo test --workspace --all-features --all-targets
cargo test --workspace --all-features --doc

# The shared-tier suite once more against a 3-master Redis Cluster: its support code starts
# one per test (`redis-server --cluster-enabled yes` x 3 on free loopback ports, then
# `redis-cli --cluster create ... --cluster-replicas 0`) and tears it down. (The test that kills
# one master starts its own cluster in both runs.)
echo "== the shared-tier suite on a Redis Cluster"
if ! command -v redis-cli >/dev/null 2>&1; then
  echo "redis-cli is required (Debian: redis-tools, installed with redis-server)" >&2
  exit 1
fi
CACHED_QUERY_TEST_TOPOLOGY=cluster cargo test -p cached-query --all-features --test shared \
  -- --test-threads 4

# The runtime's unit tests and the facade's behaviour suites once more on the other in-memory
# engine: `CACHED_QUERY_ENGINE` makes every `Config` start from it (the application's choice
# otherwise; quick_cache by default).
echo "== the behaviour suites on the moka engine"
CACHED_QUERY_ENGINE=moka cargo test -p cached-query-runtime --all-features --lib
CACHED_QUERY_ENGINE=moka cargo test -p cached-query --all-features --tests
