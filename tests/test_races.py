"""Services and views raced against each other with real threads and connections.

Each test runs tests/race_probe.py in a subprocess against a fresh database.
On PostgreSQL rows are locked one by one, so a second lock order deadlocks
and a check-then-insert double-inserts; on SQLite (BEGIN IMMEDIATE) every
writer takes the whole database at once, so the same runs show that nothing
else breaks there.
"""

import pytest

from tests.conftest import fresh_postgres_database, run_probe

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def report(request, tmp_path_factory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("races") / "races.sqlite3"
        yield run_probe("race_probe.py", timeout=600, SQLITE_PATH=str(path))
        return
    with fresh_postgres_database("consent_races") as url:
        yield run_probe("race_probe.py", timeout=600, DATABASE_URL=url)


def test_a_switchover_step_and_a_withdrawal_at_once_do_not_deadlock(report):
    run = report["interleaving"]
    assert run["withdrawal_held"], "the withdrawal never reached its lock: the probe tested nothing"
    assert run["deadlocks"] == 0 and run["errors"] == [], run
    # The withdrawal went first and closed the case, so the step is refused with a message.
    assert run["decisions"] == 2
    assert run["step"].startswith("refused")


def test_a_double_click_acknowledges_once_and_never_answers_500(report):
    run = report["double_clicks"]
    assert run["acknowledge_statuses"] == {"302": len(run["per_person"]) * 8}, run
    for person in run["per_person"]:
        assert person["acknowledgements"] == 1 and person["acknowledged_events"] == 1, person


def test_a_double_click_records_one_decision_and_one_switchover(report):
    run = report["double_clicks"]
    assert run["decision_statuses"] == {"302": len(run["per_person"]) * 8}, run
    for person in run["per_person"]:
        assert person["decisions"] == 1 and person["switchovers"] == 1, person


def test_simultaneous_wrong_codes_are_checked_no_more_than_the_limit(report):
    run = report["guessing"]
    assert run["statuses"] == {"400": run["guesses"]}, run
    assert run["checked_against_the_real_code"] <= run["limit"], run
    assert run["attempts_stored"] == run["limit"]
    # Every answer costs one hash, so timing does not tell a locked number from an open one.
    assert run["checked_against_the_real_code"] + run["decoy_checks"] == run["guesses"]
    assert run["right_code_after_the_flood"] == 400
    assert run["another_number_still_opens"] == 302


def test_the_chain_stays_whole_after_the_races(report):
    assert report["chain_verified"], report["chain_reason"]
