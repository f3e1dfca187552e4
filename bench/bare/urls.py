from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import path

TABLE = "bench_bare_row"


def hello(request):
    return HttpResponse("ok")


def insert(request):
    """One INSERT and its COMMIT, the least a recorded decision can cost."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (body) VALUES (%s)", [request.body.decode()])  # noqa: S608
    return HttpResponse("ok")


urlpatterns = [path("hello/", hello), path("insert/", insert)]
