"""Error pages in the site's layout, and a 503 while the database is down.

The pages render from the template alone, without context processors: those
look up the signed-in user and their roles, which needs the database (and
may be what just failed). The header's menu is therefore not shown on them.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template import loader

# Connection failures (and lock or statement time-outs): the request may
# succeed a little later, so they answer 503 rather than 500.
DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def _page(request, template, status):
    context = {"request": request, "csrf_token": get_token(request)}
    response = HttpResponse(loader.render_to_string(template, context), status=status)
    # An error page must not be kept by a shared cache and shown later instead of the real page.
    response["Cache-Control"] = "no-store"
    return response


def page_not_found(request, exception):
    return _page(request, "404.html", 404)


def permission_denied(request, exception):
    return _page(request, "403.html", 403)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the usual 403 a real person meets, after a form sat open too long."""
    return _page(request, "403_csrf.html", 403)


def bad_request(request, exception):
    return _page(request, "400.html", 400)


def server_error(request):
    """Django calls this with the exception still being handled, whichever layer raised it."""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        response = _page(request, "503.html", 503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return _page(request, "500.html", 500)


class OutageLogFilter(logging.Filter):
    """Keep django.request's line for a database outage but drop its traceback:
    with the database down every request fails the same way, and thousands of
    identical tracebacks would bury everything else in the log."""

    def filter(self, record):
        if record.exc_info and isinstance(record.exc_info[1], DATABASE_DOWN):
            record.args = (record.getMessage(), type(record.exc_info[1]).__name__)
            record.msg = "%s (database unavailable: %s)"
            record.exc_info = record.exc_text = None
        return True
