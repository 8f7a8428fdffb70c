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
