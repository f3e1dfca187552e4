"""The employee pages' queries, pinned: a page that starts asking more (a lost
select_related, a per-row lookup) fails here instead of slowing everyone down.
The bounds are what each page needs; ``make bench`` measures what they cost."""

import pytest
from django.db import connection

from consent.models import Choice, Decision
from tests.conftest import acknowledge, decide


@pytest.fixture
def decided(alice, alice_client):
    acknowledge(alice)
    for choice in [Choice.OPT_IN, Choice.OPT_OUT, Choice.UNDECIDED] * 10:
        decide(alice, choice)
    # The first reading of the explanation in a session records it; the pins are for every later one.
    alice_client.get("/explanation/", secure=True)
    return alice_client


# Session, user (with employee, office, role grants, the current explanation version and the
# employee's acknowledgement of it), then the page's own.
@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/", 4),  # + latest decision, the notices for the employee's office
        ("/explanation/", 2),  # nothing more
        ("/decision/", 3),  # + latest decision
        ("/history/", 5),  # + both counts in one query, decisions, openings with their events' kinds
    ],
)
def test_an_employee_page_asks_a_fixed_number_of_queries(
    decided, django_assert_max_num_queries, path, queries
):
    with django_assert_max_num_queries(queries):
        response = decided.get(path, secure=True)
    assert response.status_code == 200


def test_a_decision_asks_a_fixed_number_of_queries(decided, alice, django_assert_max_num_queries):
    before = Decision.objects.count()
    # Session, user, then one transaction (its two ends included): lock the employee,
    # with its acknowledgement, update, chain head, then event, tree nodes, opening,
    # decision, its queued confirmation mail and head: one statement on PostgreSQL,
    # six on SQLite (audit._store; in process, no round trips). No mail is sent.
    # (An opt-in also opens a switch-over case.)
    with django_assert_max_num_queries(8 if connection.vendor == "postgresql" else 13):
        response = decided.post("/decision/", {"choice": Choice.OPT_OUT, "comment": ""}, secure=True)
    assert response.status_code == 302 and "/receipts/" in response["Location"]
    assert Decision.objects.count() == before + 1


def test_a_warned_withdrawal_looks_for_card_work_once(decided, alice, django_assert_max_num_queries):
    """From the page that showed the warning (warned=1) only the service looks for HR's
    card work, under the employee's lock: the view's own look is for a page without it."""
    decide(alice, Choice.OPT_IN)
    form = {"choice": Choice.OPT_OUT, "comment": "", "warned": "1"}
    # As above, plus the switch-over to close: its latest case read, then its update.
    with django_assert_max_num_queries(10 if connection.vendor == "postgresql" else 15):
        response = decided.post("/decision/", form, secure=True)
    assert response.status_code == 302 and "/receipts/" in response["Location"]
