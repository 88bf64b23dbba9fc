#!/usr/bin/env bash
# Regenerates BENCHMARKS.md from one run: bytes per entry, every criterion benchmark of
# benches/hit.rs (our side on quick_cache and the peers), our side again on moka (a second
# process: the engine is the application's choice at start-up), the stampede, the Zipf hit
# ratio, the shared tier's writes per second, batch queries, the shared tier's cost per hit and
# its load test (issue 15); then the tables (scripts/bench_report.py, scripts/bench_shared_writes.py,
# scripts/bench_batch.py, scripts/bench_shared_hit.py, scripts/bench_load.py), read from
# target/criterion/**/estimates.json
# and the figures the benches write to $CQ_BENCH_OUT. Short runs (1 s warm-up, 2 s measurement):
# about 10 minutes on 2 cores.
#
#   scripts/bench.sh                 # run everything and rewrite BENCHMARKS.md
#   scripts/bench.sh --report-only   # rewrite BENCHMARKS.md from the last run's results
#
# Needs cargo and python3. Not run by CI (CI only builds and smoke-tests the benches).
set -euo pipefail
cd "$(dirname "$0")/.."

target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
out="$target/cq-bench"
export CQ_BENCH_OUT="$out"
short=(--warm-up-time 1 --measurement-time 2)

if [[ "${1:-}" != "--report-only" ]]; then
  rm -rf "$out"
  mkdir -p "$out"
  for group in hit key_derivation hit_2_threads stampede_1000 hit_resident invalidate_tag; do
    rm -rf "$target/criterion/$group"
  done
  date -u +%Y-%m-%dT%H:%MZ > "$out/date"
  git describe --always --dirty > "$out/commit"
  cargo bench --features moka --bench memory
  # Round 1 is saved under its own name: criterion's `new` holds whichever run came last, so
  # the rounds below would overwrite it (until 2026-12-03 the report read `new` as round 1 and
  # so took round 3 twice).
  cargo bench --features moka --bench hit -- "${short[@]}" --save-baseline round1 \
    | tee "$out/criterion.log"
  CQ_BENCH_ENGINE=moka cargo bench --features moka --bench hit -- "${short[@]}" \
    --save-baseline round1 cached_query_moka | tee -a "$out/criterion.log"
  # The one-thread hit table twice more, every side in turn again: the report takes each side's
  # median over the three rounds, and each ratio's median over the three rounds' own ratios.
  # This VM's neighbours move absolute figures by up to 30 % within minutes, and a side
  # measured once may land in a quiet minute or a noisy one.
  for round in round2 round3; do
    cargo bench --features moka --bench hit -- "${short[@]}" --save-baseline "$round" '^hit/' \
      | tee -a "$out/criterion.log"
    CQ_BENCH_ENGINE=moka cargo bench --features moka --bench hit -- "${short[@]}" \
      --save-baseline "$round" '^hit/cached_query_moka$' | tee -a "$out/criterion.log"
  done
  cargo bench --features moka --bench stampede -- "${short[@]}" | tee -a "$out/criterion.log"
  cargo bench --features moka --bench hit_ratio
  # The shared tier's writes: starts its own redis-server; writes no figures without one (its
  # section is then left out).
  cargo bench --features redis --bench shared_writes | tee "$out/shared_writes.log"
fi

python3 scripts/bench_report.py "$target" "$out" scripts/bench.sh > BENCHMARKS.md
python3 scripts/bench_shared_writes.py "$out" >> BENCHMARKS.md
cat scripts/bench_notes.md >> BENCHMARKS.md
# Batch queries (issue 14): their own run and section, one self-contained block.
if [[ "${1:-}" != "--report-only" ]]; then
  rm -rf "$target/criterion/batch_200_75pct_warm" "$target/criterion/batch_warm"
  cargo bench --bench batch -- "${short[@]}" | tee "$out/batch.log"
fi
python3 scripts/bench_batch.py "$target" "$out" >> BENCHMARKS.md
# HTTP responses (issue 17): their own run and section, one self-contained block.
if [[ "${1:-}" != "--report-only" ]]; then
  rm -rf "$target/criterion/http_requests"
  cargo bench -p cached-query-http --bench http -- "${short[@]}" | tee "$out/http.log"
fi
python3 scripts/bench_http.py "$target" >> BENCHMARKS.md
# The shared tier's cost (issue 15): a Redis hit vs raw GET, commands per hit, an invalidation's
# round trips; then the multi-process load test on one Redis and on a cluster. Starts its own
# redis-servers; writes nothing without them.
if [[ "${1:-}" != "--report-only" ]]; then
  rm -rf "$target/criterion/shared_hit"
  cargo bench --features redis --bench shared_hit -- "${short[@]}" --save-baseline round1 \
    | tee "$out/shared_hit.log"
  # Twice more, as the one-thread hit table: the report takes each side's median over the
  # three rounds (both sides run in turn in each round).
  for round in round2 round3; do
    cargo bench --features redis --bench shared_hit -- "${short[@]}" --save-baseline "$round" \
      | tee -a "$out/shared_hit.log"
  done
fi
python3 scripts/bench_shared_hit.py "$target" "$out" >> BENCHMARKS.md
if [[ "${1:-}" != "--report-only" ]]; then
  # A run that finds stale reads fails, and its section says so (it is not run again until
  # it passes).
  cargo bench --features redis --bench load | tee "$out/load.log" ||
    echo "the load test failed: its section reports what it found"
fi
python3 scripts/bench_load.py "$out" >> BENCHMARKS.md
echo "BENCHMARKS.md written"
