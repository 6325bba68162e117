#!/usr/bin/env python3
"""Writes a synthetic Combined Log Format access log for benchmarking `res learn`.

usage: gen-access-log.py LINES [DAYS] > access.log

Deterministic (seeded). Requests follow a daily and weekly rhythm over DAYS days (default
14), from a few thousand clients walking a small shop: catalog pages with ids, search with
query strings, cart and checkout. Every line ends with nginx's $request_time.
"""
import random
import sys
import time

lines = int(sys.argv[1])
days = int(sys.argv[2]) if len(sys.argv) > 2 else 14
rng = random.Random(7)
start = 1_763_337_600  # 2025-11-17T00:00:00Z, a Monday
span = days * 86400
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "curl/8.5.0",
]
clients = ["10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)) for _ in range(5000)]
routes = [
    (0.55, "GET", lambda: "/items/%d" % rng.randrange(1000, 99999), 200, 3000),
    (0.15, "GET", lambda: "/search?q=%s" % rng.choice(["shoe", "hat", "bag", "sock"]), 200, 8000),
    (0.10, "GET", lambda: "/", 200, 12000),
    (0.08, "POST", lambda: "/cart/%d/items" % rng.randrange(1, 50000), 201, 300),
    (0.07, "POST", lambda: "/checkout", 200, 400),
    (0.05, "GET", lambda: "/static/app.%s.js" % rng.choice(["3f9a2c", "77b1e0"]), 200, 90000),
]
cum = []
acc = 0.0
for r in routes:
    acc += r[0]
    cum.append((acc, r))

# Times: uniform over the span, thinned by a day+week shape, sorted in chunks of one hour.
out = sys.stdout
per_hour = lines / (days * 24)
written = 0
hour = 0
cache = {}
while written < lines:
    h = hour % (days * 24)
    dow = (h // 24) % 7
    hod = h % 24
    shape = (0.3 + 0.7 * max(0.0, __import__("math").sin((hod - 6) / 24 * 6.283))) * (0.7 if dow >= 5 else 1.0)
    n = min(lines - written, max(1, int(per_hour * shape * 1.6)))
    base = start + hour * 3600
    secs = sorted(rng.randrange(3600) for _ in range(n))
    for s in secs:
        t = base + s
        key = t // 60
        if key not in cache:
            cache.clear()
            g = time.gmtime(t - t % 60)
            cache[key] = "%02d/%s/%04d:%02d:%02d" % (g.tm_mday, MONTHS[g.tm_mon - 1], g.tm_year, g.tm_hour, g.tm_min)
        stamp = "%s:%02d +0000" % (cache[key], t % 60)
        x = rng.random()
        for c, r in cum:
            if x <= c:
                break
        _, method, path, status, size = r
        if rng.random() < 0.01:
            status = 404
        out.write('%s - - [%s] "%s %s HTTP/1.1" %d %d "https://shop.example/" "%s" %.3f\n' % (
            rng.choice(clients), stamp, method, path(), status, size + rng.randrange(size // 2 + 1),
            rng.choice(UAS), rng.random() * 0.2))
    written += n
    hour += 1
