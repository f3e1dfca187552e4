"""Writing many rows at once: COPY on PostgreSQL, batched statements elsewhere.

For the roster import (100,000 new staff in one request) and the benchmark
generator. Rows are plain tuples in the order of the field names given
(attnames: ``office_id``, not ``office``), never model instances: building
400,000 of those took most of a first import. Nothing here runs a model's
``save``, its defaults or its signals, so the caller gives every column the
table needs. It writes inside the caller's transaction, like any statement.
"""

import json

from django.db import connection, models

BATCH = 2000  # rows per statement where there is no COPY


def batches(items, size=BATCH):
    """``items`` in lists of ``size``, for statements that take many rows at once."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert(model, fields, rows, *, new_ids=False):
    """Insert ``rows`` (tuples in ``fields`` order) into ``model``'s table.

    With ``new_ids`` the rows get fresh primary keys, returned in row order:
    drawn from the table's sequence on PostgreSQL (so later inserts never
    collide with them), as the database assigns them elsewhere.
    """
    rows = list(rows)
    if not rows:
        return []
    if connection.vendor != "postgresql":
        made = model.objects.bulk_create(
            (model(**dict(zip(fields, row, strict=True))) for row in rows), batch_size=BATCH
        )
        return [instance.pk for instance in made] if new_ids else []
    ids = []
    if new_ids:
        ids = _reserve_ids(model, len(rows))
        fields = [model._meta.pk.attname, *fields]
        rows = [(pk, *row) for pk, row in zip(ids, rows, strict=True)]
    columns = [model._meta.get_field(name) for name in fields]
    names = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    # COPY's text form takes JSON as its text.
    as_json = [i for i, field in enumerate(columns) if isinstance(field, models.JSONField)]
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            if as_json:
                row = [json.dumps(v) if i in as_json else v for i, v in enumerate(row)]
            copy.write_row(row)
    return ids


def _reserve_ids(model, count):
    """``count`` values of the primary key's sequence, in one statement; nobody else gets them."""
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(table), column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def update(model, fields, rows):
    """Set ``fields`` on many rows at once: ``rows`` are (primary key, *values) tuples.

    One ``UPDATE ... FROM (VALUES ...)`` per batch, which PostgreSQL and SQLite
    both read, rather than Django's bulk_update: its CASE WHEN per row and
    column cost more to build than to run.
    """
    rows = list(rows)
    if not rows:
        return
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    columns = [model._meta.get_field(name) for name in fields]
    # VALUES names its columns column1, column2, ... in both databases; the cast keeps
    # PostgreSQL from reading a column of NULLs as text.
    assignments = ", ".join(
        f"{quote(field.column)} = CAST(v.column{i} AS {field.db_type(connection)})"
        for i, field in enumerate(columns, 2)
    )
    row_sql = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    size = min(BATCH, connection.ops.bulk_batch_size([model._meta.pk, *fields], rows))
    with connection.cursor() as cursor:
        for batch in batches(rows, size):
            values = ", ".join([row_sql] * len(batch))
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v"  # noqa: S608 - names from the model
                f" WHERE {table}.{pk} = v.column1",
                [value for row in batch for value in row],
            )
