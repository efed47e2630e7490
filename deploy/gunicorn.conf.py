"""gunicorn's configuration for Dangjian (docs/operator-guide.md, "Serving"), read by `make serve`, the systemd unit
and the container alike: `gunicorn -c deploy/gunicorn.conf.py dangjian.wsgi`.

Threaded workers: a request mostly waits on PostgreSQL, so a few processes with several threads each serve many
users on a small machine. Every value can be set from the environment (DANGJIAN_GUNICORN_*), so one file serves a
2-core county server and an 8-core provincial one.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("DANGJIAN_BIND", "127.0.0.1:8000")
# (2 x cores) + 1 processes, as gunicorn's documentation advises, each with a few threads.
workers = _int("DANGJIAN_GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
threads = _int("DANGJIAN_GUNICORN_THREADS", 4)
worker_class = "gthread"
# A request slower than this is killed and logged with its stack: long work belongs in a background job.
timeout = _int("DANGJIAN_GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
# Longer than a reader pauses between clicks and than the proxy's idle upstream connections: a connection the
# server closes while the client reuses it fails the request (the load test's 2-6 s think time met a 5 s keepalive).
keepalive = _int("DANGJIAN_GUNICORN_KEEPALIVE", 75)
# Workers are replaced now and then, so that no slow leak grows for months.
max_requests = _int("DANGJIAN_GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = 200
# Uploads and the import preview can be large; the proxy in front limits body size (client_max_body_size).
limit_request_line = 8190
# The app logs one JSON line per request itself (core.logging); gunicorn logs its own errors only.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("DANGJIAN_GUNICORN_LOGLEVEL", "info")
# The reverse proxy's address: X-Forwarded-Proto/For are believed from there only.
forwarded_allow_ips = os.environ.get("DANGJIAN_TRUSTED_PROXIES", "127.0.0.1")
proc_name = "dangjian"
# Temporary files of the worker heartbeats in memory, not on a slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
