"""The floor of ``make bench``: the least a Django view can cost under the same
gunicorn settings and PostgreSQL as the app. Never part of the app's URLs."""

import os

import dj_database_url

DEBUG = False
SECRET_KEY = "bench-floor-only"  # noqa: S105 - serves two fixed answers on 127.0.0.1
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.bare.urls"
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {
    "default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True)
}
USE_TZ = True
