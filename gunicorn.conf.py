"""gunicorn's settings for production and the benchmarks (gunicorn reads ./gunicorn.conf.py
from the directory it starts in; command-line flags override them).

Threads in few processes: on the measured 2-core host, 2 workers x 8 threads served the community
benchmark's 20 clients at 50-63 pages/s where 4 x 4 served 27-40 in the same minutes, with no
more CPU per page: one process per core keeps the runnable Python threads at the number of
cores (the GIL lets one thread of a process run at a time), and each process warms its caches
(templates, URLs, static names) once. Four threads per process are enough to keep a core busy
while a page waits on PostgreSQL and Redis, and fewer threads contend less for the GIL: back to
back on the quiet host (2026-12-06 16:30 UTC), 2 x 4 served the community benchmark at 214.9
pages/s with 6.8 ms of gunicorn CPU per page where 2 x 8 served 190.0 with 7.5 ms, and the
redemption benchmark at 278/s where 2 x 8 served 280/s.

The benchmarks (bench/redemptions.py, bench/community_lists.py) read their default layout from
this file.
"""

import os

wsgi_app = "portal.wsgi:application"
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS") or os.cpu_count() or 2)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
# Browsers and the proxy in front keep connections open between pages.
keepalive = 30
# One listening socket per worker (SO_REUSEPORT), so the kernel spreads new connections over the
# workers. On one shared socket the worker that last waited takes most of them: the community
# benchmark's 20 keep-alive clients were held 16 and 4, then 17 and 3, one core queueing pages
# while the other idled (217.6 pages/s, p95 195 ms); with a socket each, 7 and 13 (221.6 pages/s,
# p95 159 ms), and redemptions 307/s where the runs before served 268-280/s (2026-12-06,
# 16:56-17:03 UTC, load 2-3.4).
reuse_port = True
