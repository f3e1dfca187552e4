"""The reads every signed-in request makes, and the employee's history, written once as SQL.

Building a query through the ORM (clone, filters, compiler) costs more CPU than
the database spends answering it; on the employee pages that was most of a
request. These few reads are written here once, with their columns taken from
the models (a new field is read too) and run on the connection the router
names, so replica routing is unchanged. Rows become model instances through
``Model.from_db`` and the backend's converters, as the ORM would make them; the
history's rows stay tuples of converted values. Nothing here writes.
"""

from functools import cache
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db import connections, router

from consent.models import (
    Acknowledgement,
    AuditEvent,
    Decision,
    Employee,
    EventOpening,
    ExplanationVersion,
    Office,
    RoleGrant,
    SwitchoverCase,
)

GRANTED_ROLES = [role for role, _label in RoleGrant.ROLE_CHOICES]


class _Values:
    """Columns (``(table alias, field)`` pairs) and how to turn a row of them into Python values."""

    def __init__(self, columns, connection):
        self.sql = ", ".join(f"{alias}.{connection.ops.quote_name(field.column)}" for alias, field in columns)
        self.converters = []
        for alias, field in columns:
            col = field.get_col(alias)
            self.converters.append(
                (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
            )
        self.connection = connection

    def convert(self, values):
        converted = []
        for value, (col, converters) in zip(values, self.converters, strict=True):
            for converter in converters:
                value = converter(value, col, self.connection)
            converted.append(value)
        return tuple(converted)

    def __len__(self):
        return len(self.converters)


class _Columns(_Values):
    """A model's concrete columns under a table alias, and how to turn their values into an instance."""

    def __init__(self, model, alias, connection):
        fields = model._meta.concrete_fields
        super().__init__([(alias, field) for field in fields], connection)
        self.model = model
        self.attnames = [field.attname for field in fields]

    def instance(self, db, values):
        return self.model.from_db(db, self.attnames, self.convert(values))


def _fetch_one(db, sql, params):
    """The first row ``sql`` answers on connection ``db``, or None."""
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _version_and_acknowledgement(db, versions, acknowledgements, row):
    """A row's explanation version (or None) and acknowledgement of it (with
    ``version`` attached, or None), from their columns at the row's end."""
    version = None if row[0] is None else versions.instance(db, row[: len(versions)])
    if row[len(versions)] is None:
        return version, None
    acknowledgement = acknowledgements.instance(db, row[len(versions) :])
    acknowledgement.version = version
    return version, acknowledgement


class ExplanationState(NamedTuple):
    """The current explanation version and the employee's acknowledgement of it
    (with ``version`` attached), or None for either, as the request's user read found them."""

    version: ExplanationVersion | None
    acknowledgement: Acknowledgement | None


def _explanation_state_join(connection):
    """The current explanation version (v) and employee e's acknowledgement of it (a),
    each LEFT JOINed, as the user read and the locked employee read both take them."""
    q = connection.ops.quote_name
    version_table = q(ExplanationVersion._meta.db_table)
    join = (
        f" LEFT JOIN {version_table} v ON v.number = (SELECT MAX(number) FROM {version_table})"  # noqa: S608
        f" LEFT JOIN {q(Acknowledgement._meta.db_table)} a ON a.version_id = v.id AND a.employee_id = e.id"
    )
    return _Columns(ExplanationVersion, "v", connection), _Columns(Acknowledgement, "a", connection), join


@cache
def _user_query(db):
    connection = connections[db]
    q = connection.ops.quote_name
    user_model = get_user_model()
    users = _Columns(user_model, "u", connection)
    employees = _Columns(Employee, "e", connection)
    offices = _Columns(Office, "o", connection)
    versions, acknowledgements, explanation_state = _explanation_state_join(connection)
    grants = ", ".join(
        f"EXISTS (SELECT 1 FROM {q(RoleGrant._meta.db_table)} g WHERE g.user_id = u.id AND g.role = %s)"  # noqa: S608
        for _role in GRANTED_ROLES
    )
    sql = (
        f"SELECT {users.sql}, {employees.sql}, {offices.sql}, {versions.sql}, {acknowledgements.sql},"  # noqa: S608
        f" {grants}"  # names from the models
        f" FROM {q(user_model._meta.db_table)} u"
        f" LEFT JOIN {q(Employee._meta.db_table)} e ON e.user_id = u.id"
        f" LEFT JOIN {q(Office._meta.db_table)} o ON o.id = e.office_id{explanation_state}"
        " WHERE u.id = %s"
    )
    return sql, users, employees, offices, versions, acknowledgements


def user_with_roles(user_id):
    """The user with their employee record and office attached and ``_grant_<role>``
    set for each granted role (read by ``access.roles_of``), or None. One query.

    The employee record carries ``explanation_state``: every employee page asks
    whether the current explanation was confirmed, so the same read answers it,
    as of the start of the request. A decision is still refused unless the
    acknowledgement is found again under the employee's lock
    (``locked_employee_and_acknowledgement``)."""
    user_model = get_user_model()
    db = router.db_for_read(user_model)
    sql, users, employees, offices, versions, acknowledgements = _user_query(db)
    row = _fetch_one(db, sql, [*GRANTED_ROLES, user_model._meta.pk.to_python(user_id)])
    if row is None:
        return None
    user = users.instance(db, row[: len(users)])
    row = row[len(users) :]
    if row[0] is None:
        user_model.employee.related.set_cached_value(user, None)
    else:
        employee = employees.instance(db, row[: len(employees)])
        employee.office = offices.instance(db, row[len(employees) : len(employees) + len(offices)])
        start = len(employees) + len(offices)
        state = row[start : start + len(versions) + len(acknowledgements)]
        employee.explanation_state = ExplanationState(
            *_version_and_acknowledgement(db, versions, acknowledgements, state)
        )
        user.employee = employee
    granted = row[len(employees) + len(offices) + len(versions) + len(acknowledgements) :]
    for role, value in zip(GRANTED_ROLES, granted, strict=True):
        setattr(user, f"_grant_{role}", bool(value))
    return user


@cache
def _locked_employee_query(db):
    connection = connections[db]
    q = connection.ops.quote_name
    employees = _Columns(Employee, "e", connection)
    offices = _Columns(Office, "o", connection)
    versions, acknowledgements, explanation_state = _explanation_state_join(connection)
    sql = (
        f"SELECT {employees.sql}, {offices.sql}, {versions.sql}, {acknowledgements.sql}"  # noqa: S608
        f" FROM {q(Employee._meta.db_table)} e JOIN {q(Office._meta.db_table)} o ON o.id = e.office_id"
        f"{explanation_state}"
        " WHERE e.user_id = %s AND e.is_active = %s"
    )
    if connection.features.has_select_for_update_of:
        # Only the employee row, as services._locked_employee locks it.
        sql += " FOR UPDATE OF e"
    return sql, employees, offices, versions, acknowledgements


def locked_employee_and_acknowledgement(user):
    """Inside a transaction: the user's active employee row (with its office),
    locked until the transaction ends, and its acknowledgement of the current
    explanation version (with ``version`` attached) or None; (None, None)
    without an active employee record. One query where the ORM took two."""
    db = router.db_for_write(Employee)
    sql, employees, offices, versions, acknowledgements = _locked_employee_query(db)
    row = _fetch_one(db, sql, [user.pk, True])
    if row is None:
        return None, None
    employee = employees.instance(db, row[: len(employees)])
    row = row[len(employees) :]
    employee.office = offices.instance(db, row[: len(offices)])
    _version, acknowledgement = _version_and_acknowledgement(
        db, versions, acknowledgements, row[len(offices) :]
    )
    return employee, acknowledgement


@cache
def _locked_head_query(db, model):
    connection = connections[db]
    q = connection.ops.quote_name
    heads = _Columns(model, "h", connection)
    sql = f"SELECT {heads.sql} FROM {q(model._meta.db_table)} h WHERE h.{q(model._meta.pk.column)} = %s"  # noqa: S608
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql, heads


def locked_head(model):
    """Inside a transaction: the chain's one head row (``model``, AuditHead or a
    migration's copy of it), locked until the transaction ends. One query."""
    db = router.db_for_write(model)
    sql, heads = _locked_head_query(db, model)
    row = _fetch_one(db, sql, [1])
    if row is None:  # migration 0001 makes it; only a broken database lacks it
        raise model.DoesNotExist("the chain's head row is missing")
    return heads.instance(db, row)


@cache
def _latest_decision_query(db):
    connection = connections[db]
    decisions = _Columns(Decision, "d", connection)
    sql = (
        f"SELECT {decisions.sql} FROM {connection.ops.quote_name(Decision._meta.db_table)} d"  # noqa: S608
        " WHERE d.employee_id = %s ORDER BY d.audit_seq DESC LIMIT 1"
    )
    return sql, decisions


def latest_decision(employee):
    """The employee's current decision (the last recorded), or None. One query."""
    db = router.db_for_read(Decision)
    sql, decisions = _latest_decision_query(db)
    row = _fetch_one(db, sql, [employee.pk])
    return None if row is None else decisions.instance(db, row)


class EmployeeRows:
    """One employee's rows of a table, for a Paginator: counted already (``count()``),
    sliced by SQL written once (``[start:stop]``), each row a tuple of values."""

    ordered = True

    def __init__(self, db, table, employee_id, total):
        self.db, self.employee_id, self.total = db, employee_id, total
        self.page_sql, self.values = _employee_rows_queries(db, table)[1:]

    def count(self):
        return self.total

    def __getitem__(self, window):
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.page_sql, [self.employee_id, window.stop - window.start, window.start])
            return [self.values.convert(row) for row in cursor.fetchall()]


class _Table(NamedTuple):
    """An employee's table (alias t, with an employee_id), one joined table (alias j), the columns read."""

    model: type
    joined: type
    on: str
    columns: tuple
    order: str


@cache
def _employee_rows_queries(db, table):
    connection = connections[db]
    q = connection.ops.quote_name
    models = {"t": table.model, "j": table.joined}
    columns = [(alias, models[alias]._meta.get_field(name)) for alias, name in table.columns]
    values = _Values(columns, connection)
    source = f"{q(table.model._meta.db_table)} t"
    count_sql = f"SELECT COUNT(*) FROM {source} WHERE t.employee_id = %s"  # noqa: S608 - names from the models
    page_sql = (
        f"SELECT {values.sql} FROM {source} JOIN {q(table.joined._meta.db_table)} j ON {table.on}"  # noqa: S608
        f" WHERE t.employee_id = %s ORDER BY {table.order} LIMIT %s OFFSET %s"
    )
    return count_sql, page_sql, values


DECISION_ROWS = _Table(
    Decision,
    ExplanationVersion,
    "j.id = t.explanation_version_id",
    (("t", "created_at"), ("t", "choice"), ("t", "previous_choice"), ("t", "comment"))
    + (("j", "number"), ("t", "audit_seq"), ("t", "receipt_id")),
    "t.audit_seq",
)
OPENING_ROWS = _Table(
    EventOpening,
    AuditEvent,
    "j.seq = t.seq",
    (("t", "seq"), ("t", "created_at"), ("j", "kind"), ("t", "salt"), ("t", "secret")),
    "t.seq",
)


def history(employee):
    """The employee's decisions, oldest first, as (created_at, choice, previous_choice,
    comment, explanation version number, audit_seq, receipt_id), and the openings of
    their events in log order, as (seq, created_at, the event's kind, salt, secret):
    two sets of rows for Paginators, both counted in one query."""
    db = router.db_for_read(EventOpening)
    tables = (DECISION_ROWS, OPENING_ROWS)
    counts = ", ".join(f"({_employee_rows_queries(db, table)[0]})" for table in tables)
    totals = _fetch_one(db, f"SELECT {counts}", [employee.pk] * len(tables))  # noqa: S608 - written here
    return tuple(
        EmployeeRows(db, table, employee.pk, total) for table, total in zip(tables, totals, strict=True)
    )


@cache
def _latest_switch_query(db):
    connection = connections[db]
    steps = _Values([("s", SwitchoverCase._meta.get_field("steps_done"))], connection)
    sql = (
        f"SELECT {steps.sql} FROM {connection.ops.quote_name(SwitchoverCase._meta.db_table)} s"  # noqa: S608
        " WHERE s.employee_id = %s AND s.kind = %s ORDER BY s.opened_at DESC, s.id DESC LIMIT 1"
    )
    return sql, steps


def latest_switch_steps(employee):
    """The steps HR recorded on the employee's latest switch-over case, or None without one. One query."""
    db = router.db_for_read(SwitchoverCase)
    sql, steps = _latest_switch_query(db)
    row = _fetch_one(db, sql, [employee.pk, SwitchoverCase.SWITCH])
    return None if row is None else steps.convert(row)[0]
