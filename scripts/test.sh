#!/usr/bin/env bash
# Runs every test of the workspace on a bare machine: unit, behaviour, trybuild ui tests,
# examples (built), and doc tests. Installs what the tests need first.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required: install Rust 1.95 with rustup (https://rustup.rs)" >&2
  exit 1
fi

# The tests need nothing beyond cargo today. (The Redis tier's tests will install
# redis-server here.)

cargo test --workspace --all-features --all-targets
cargo test --workspace --all-features --doc
