"""Appends the shared tier's write section to BENCHMARKS.md (to stdout) from the figures
benches/shared_writes.rs wrote to $CQ_BENCH_OUT/shared_writes.tsv; prints nothing if it did not
run (no redis-server)."""
import os, sys

out = sys.argv[1]
path = os.path.join(out, "shared_writes.tsv")
if not os.path.exists(path):
    sys.exit(0)
with open(path) as f:
    rows = [line.rstrip("\n").split("\t") for line in f if line.strip()][1:]
p = print
flat = [r for r in rows if r[0] == "flat_out"]
holds = all(float(r[6]) >= 5000 for r in flat) and all(r[7] == "0" for r in rows)
p()
p("## The shared tier: writes to Redis under a miss-heavy load")
p()
p("`benches/shared_writes.rs`: two cache instances in one process (each its own tier,")
p("connection and writer task) against a `redis-server` the benchmark starts; every call is a")
p("miss (a new argument): one read round trip, the body, one queued write. The write-behind")
p("queue (1,024) is drained in batches, one script call per batch. Writes per second count")
p("from the first call until the instance's queue has drained.")
p()
verdict = "**holds**" if holds else "**does not hold**"
p(f"- Writes per instance, flat out on both instances: **{min(float(r[6]) for r in flat):,.0f}/s** or more, "
  f"{sum(int(r[7]) for r in rows)} dropped in all loads (target ≥ 5,000/s, 0 dropped): {verdict}.")
p()
p("| load | instance | offered | misses | misses/s | writes | writes/s | dropped |")
p("|---|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    offered = "flat out" if r[2] == "-" else f"{float(r[2]):,.0f}/s"
    p(f"| {r[0]} | {r[1]} | {offered} | {int(r[3]):,} | {float(r[4]):,.0f} | {int(r[5]):,} | {float(r[6]):,.0f} | {r[7]} |")
p()
p("`paced`: both instances offered 5,000 misses/s each; `flat_out`: 32 callers per instance as")
p("fast as they go, both at once (with the `redis-server`, three processes' worth of work on 2")
p("cores: the miss path, not the queue, is the limit); `alone`: one instance flat out. Before")
p("batching (one round trip per write) the same run wrote ~2,300/s paced and ~720/s flat out")
p("per instance, dropping 8,000 and 27,000 values.")
