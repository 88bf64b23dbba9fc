"""Appends the HTTP response cache section to BENCHMARKS.md (to stdout) from
cached-query-http's benches/http.rs: criterion's medians under target/criterion (group
http_requests), as requests per second; prints nothing if it did not run."""
import json, os, sys

target = sys.argv[1]
group = os.path.join(target, "criterion", "http_requests")


def median(case):
    path = os.path.join(group, case, "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


cases = ["handler_uncached", "cached_hit", "not_modified_304"]
if not all(os.path.exists(os.path.join(group, c, "new", "estimates.json")) for c in cases):
    sys.exit(0)
ns = {c: median(c) for c in cases}
what = {
    "handler_uncached": "the handler, uncached (renders 20 users as JSON, ~2 KB)",
    "cached_hit": "the same route through `ResponseCacheLayer`: a hit",
    "not_modified_304": "`If-None-Match` with the stored ETag: a `304` from memory",
}

p = print
p()
p("## HTTP responses (`cached-query-http`)")
p()
p("`http/benches/http.rs`: requests through an axum router, in process (`tower::ServiceExt::oneshot`,")
p("no sockets: what the layer costs and saves, not what loopback TCP costs), one thread, the")
p("response body read to the end as a server would send it.")
p()
p("| request | per request | requests per second |")
p("|---|---:|---:|")
for c in cases:
    p(f"| {what[c]} | {ns[c] / 1e3:,.2f} µs | {1e9 / ns[c]:,.0f} |")
p()
p(f"- A hit serves **{ns['handler_uncached'] / ns['cached_hit']:.1f}x** the requests per second of the uncached handler,")
p(f"  a `304` **{ns['handler_uncached'] / ns['not_modified_304']:.1f}x** (and sends no body). A hit's time is the route match,")
p("  the key (method, path, chosen query parameters and headers, hashed by the runtime), the")
p("  runtime's hit path, and the response built from the stored one (its header map cloned,")
p("  `Age` and `Cache-Control` added, the body a reference-counted `Bytes`).")
p("- The uncached handler here is cheap (no database): against a handler that queries one, the")
p("  ratio grows with the query's time, while a hit's and a `304`'s stay as measured.")
