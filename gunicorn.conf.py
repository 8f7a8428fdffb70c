"""gunicorn's settings for production and the benchmarks (gunicorn reads ./gunicorn.conf.py
from the directory it starts in; command-line flags override them).

Threads in few processes: on the measured 2-core host, 2 workers x 8 threads served the community
benchmark's 20 clients at 50-63 pages/s where 4 x 4 served 27-40 in the same minutes, with no
more CPU per page: one process per core keeps the runnable Python threads at the number of
cores (the GIL lets one thread of a process run at a time), and each process warms its caches
(templates, URLs, static names) once. Two threads per process are enough to keep a core busy
while a page waits on PostgreSQL and Redis, and each thread more contends for the GIL: back to
back on the quiet host (2026-12-06 22:20-22:34 UTC, load 1.7-3.4), the community benchmark
served 202.2 pages/s, p95 164 ms, with 7.0 ms of gunicorn CPU per page at 2 x 4; 219.1 pages/s,
p95 152 ms, 6.5 ms at 2 x 3; 225.1 pages/s, p95 137 ms, 6.3 ms at 2 x 2; 233.4 pages/s, p95
142 ms, 6.0 ms at 2 x 1 (one slow request would then hold a whole process); 203.6 pages/s, p95
175 ms at 3 x 2. Redemptions at 2 x 2: 313/s (274/s at 2 x 4 the session before). A database
farther away than this host's (more time waiting per statement) wants more threads:
GUNICORN_THREADS sets them.

The benchmarks (bench/redemptions.py, bench/community_lists.py) read their default layout from
this file.
"""

import os

wsgi_app = "portal.wsgi:application"
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS") or os.cpu_count() or 2)
threads = int(os.environ.get("GUNICORN_THREADS") or 2)
# Browsers and the proxy in front keep connections open between pages.
keepalive = 30
# One listening socket per worker (SO_REUSEPORT), so the kernel spreads new connections over the
# workers. On one shared socket the worker that last waited takes most of them: the community
# benchmark's 20 keep-alive clients were held 16 and 4, then 17 and 3, one core queueing pages
# while the other idled (217.6 pages/s, p95 195 ms); with a socket each, 7 and 13 (221.6 pages/s,
# p95 159 ms), and redemptions 307/s where the runs before served 268-280/s (2026-12-06,
# 16:56-17:03 UTC, load 2-3.4).
reuse_port = True
