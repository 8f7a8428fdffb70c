"""gunicorn's settings for production and the benchmarks (gunicorn reads ./gunicorn.conf.py
from the directory it starts in; command-line flags override them).

Threads in few processes: on the measured 2-core host, 2 workers x 8 threads served the community
benchmark's 20 clients at 50-63 pages/s where 4 x 4 served 27-40 in the same minutes, with no
more CPU per page: one process per core keeps the runnable Python threads at the number of
cores (the GIL lets one thread of a process run at a time), and each process warms its caches
(templates, URLs, static names) once. A page mostly waits on PostgreSQL and Redis, so 8
threads keep a core busy.
"""

import os

wsgi_app = "portal.wsgi:application"
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS") or os.cpu_count() or 2)
threads = int(os.environ.get("GUNICORN_THREADS") or 8)
# Browsers and the proxy in front keep connections open between pages.
keepalive = 30
