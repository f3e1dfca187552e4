"""HR's and the union's reads on a PostgreSQL replica (``DATABASE_REPLICA_URL``).

Only reads of a GET to an HR or union page go there (``replica_reads``, entered
by ``access.role_required``), and even then not:

- a read inside a transaction: every write, and every append to the chain
  with what it read to decide, happens on the primary in one transaction;
- the chain head (``AuditHead``), which only the primary moves;
- anything inside ``primary_reads``: the union's verification reads the head
  and the events together and records how far it got (``LogVerification``).

A replica lags its primary: what HR or the union read there may miss the last
moments, never show what did not happen. Without the setting there is no
replica alias and everything stays on the primary.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
_reads_on = ContextVar("reads_on", default=DEFAULT_DB_ALIAS)


@contextmanager
def _reading_on(alias):
    token = _reads_on.set(alias)
    try:
        yield
    finally:
        _reads_on.reset(token)


def replica_reads():
    return _reading_on(REPLICA)


def primary_reads():
    return _reading_on(DEFAULT_DB_ALIAS)


def in_transaction():
    return connections[DEFAULT_DB_ALIAS].in_atomic_block


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if (
            _reads_on.get() == REPLICA
            and REPLICA in connections.settings
            and model._meta.label != "consent.AuditHead"
            and not in_transaction()
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both hold the same rows: a replica is a copy of the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
