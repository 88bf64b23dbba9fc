"""Appends the batch-query section to BENCHMARKS.md (to stdout) from benches/batch.rs: criterion's
medians under target/criterion (groups batch_200_75pct_warm, batch_warm) and the queries per
call it wrote to $CQ_BENCH_OUT/batch.tsv; prints nothing if it did not run."""
import json, os, sys

target, out = sys.argv[1:3]


def median(*path):
    with open(os.path.join(target, "criterion", *path, "new", "estimates.json")) as f:
        return json.load(f)["median"]["point_estimate"]


def us(v):
    return f"{v / 1e3:,.1f} µs"


tsv = os.path.join(out, "batch.tsv")
if not os.path.exists(tsv):
    sys.exit(0)
with open(tsv) as f:
    queries = dict(line.rstrip("\n").split("\t") for line in f if line.strip())
queries.pop("side", None)

sides = ["cached_query_batch", "cached_query_200_singles", "uncached_batch_query"]
warm = {s: median("batch_200_75pct_warm", s) for s in sides}
batch = median("batch_warm", "batch_200")
clone = median("batch_warm", "vec_clone_200")
single = median("batch_warm", "single_hit")
per_item = (batch - clone) / 200
ratio = per_item / single

p = print
p()
p("## Batch queries (`#[cached_query(batch)]`)")
p()
p("`benches/batch.rs`, against an in-memory SQLite table of 10,000 users (queried on the calling")
p("thread, no blocking-pool hand-off): a page of 200 ids of which 150 are cached, the same 50")
p("forgotten (untimed) before each call.")
p()
p("| 200 ids, 75 % warm | per call | SQLite queries per call |")
p("|---|---:|---:|")
what = {
    "cached_query_batch": "`#[cached_query(batch)]`: one call, one `WHERE id IN (..)` for the 50 missing",
    "cached_query_200_singles": "200 calls of a single-id `#[cached_query]` function",
    "uncached_batch_query": "the uncached `WHERE id IN (..)` query for all 200",
}
for s in sides:
    p(f"| {what[s]} | {us(warm[s])} | {float(queries.get(s, 'nan')):.0f} |")
p()
q50 = median("batch_200_75pct_warm", "uncached_query_of_the_50")
per_miss = (warm["cached_query_batch"] - q50 - 150 * single) / 50
p(f"- One batch call is **{warm['cached_query_200_singles'] / warm['cached_query_batch']:.2f}x** as fast as the 200 single cached calls")
p(f"  (1 query instead of 50), and **{warm['cached_query_batch'] / warm['uncached_batch_query']:.2f}x** as slow as the uncached query: an")
p(f"  in-memory SQLite reads a row by primary key in ~{warm['uncached_batch_query'] / 200 / 1e3:.1f} µs, less than what caching one missing item")
p(f"  costs (about {per_miss / 1e3:.1f} µs here: the batch's time less its own query, {us(q50)}, and 150 hits; the")
p("  item's flight, its tags, its entry and its stored copy, as for a single call's miss). The")
p("  batch's gain is in the queries it does not make, which is what a database across a network")
p("  charges for (a round trip each).")
verdict = "**holds**" if ratio <= 2.0 else "**does not hold**"
p(f"- A fully warm 200-item batch: {us(batch)} per call, {per_item:.1f} ns per item (the caller's")
p(f"  `Vec` clone, {clone:.0f} ns, taken out), against {single:.1f} ns for a single hit: **{ratio:.2f}x** per item")
p(f"  (target ≤ 2x): {verdict}. Per item: its key (the shared prefix copied, the item encoded,")
p("  xxh3), the engine's read (the entry lent, as for a single hit), the freshness check, the")
p("  clone out, and its insertion into the returned `HashMap`.")
