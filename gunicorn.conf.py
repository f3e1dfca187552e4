"""gunicorn's configuration for the consent ledger (``gunicorn -c gunicorn.conf.py config.wsgi``).

Every value can be changed on the command line or, for the worker count, with
``WEB_CONCURRENCY``. ``make bench`` runs the app and its bare floor under this
file with ``--workers 2``.
"""

import multiprocessing
import os

bind = os.getenv("GUNICORN_BIND", "127.0.0.1:8001")
# Sync workers: each request holds one worker and one database connection,
# the model the app's transactions (and CONN_MAX_AGE) are written for. Two per
# core plus one keeps a core busy while another worker waits on PostgreSQL.
workers = int(os.getenv("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Import the app once in the master, so a worker starts in milliseconds and
# shares the loaded code; settings errors stop the master before it forks.
preload_app = True
# Recycle a worker after about ten thousand requests (jittered, so they do not
# all restart at once): a slow leak in a library cannot grow without bound. A new
# worker starts cold (its connections, compiled templates, catalogues and shared
# parts), so recycling every thousand cost make bench's pages and POST a fifth
# or more of their rate.
max_requests = 10000
max_requests_jitter = 1000
# No page takes seconds; the union's export streams, and a worker silent for
# this long is stuck. Graceful stops let a decision in flight commit.
timeout = 30
graceful_timeout = 30
# Access logs would record who asked for /complaints/ and from where: off
# (gunicorn's default), as the README's deploy section says.
accesslog = None
