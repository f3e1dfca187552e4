"""Publishing HR's figures as snapshots, and the weekly replay the union's jump indicator uses."""

import datetime
import json
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import timezone

from consent import figures, services
from consent.figures import weekly_states
from consent.models import AuditEvent, Choice, FigureRow, FigureSnapshot, PublishedState
from tests.conftest import acknowledge, decide


def at(day):
    return timezone.make_aware(datetime.datetime(2026, 6, day, 12))


def test_every_week_is_yielded_even_without_decisions():
    # 1 June 2026 is a Monday; nothing happens in the week of 8 June.
    decisions = [(1, "opt_in", at(2)), (2, "opt_out", at(3)), (1, "opt_out", at(16))]
    weeks = [
        (week, dict(state)) for week, state in weekly_states(decisions, today=datetime.date(2026, 6, 20))
    ]
    assert [week.day for week, _state in weeks] == [1, 8, 15]
    assert weeks[0][1] == {1: "opt_in", 2: "opt_out"}
    assert weeks[1][1] == weeks[0][1]
    assert weeks[2][1] == {1: "opt_out", 2: "opt_out"}


def test_no_decisions_no_weeks():
    assert list(weekly_states([], today=datetime.date(2026, 6, 20))) == []


# --- publication ----------------------------------------------------------------------------------


def local(*args):
    return timezone.make_aware(datetime.datetime(*args))


@pytest.fixture
def people(make_employee):
    """15 staff in one office: 0-4 opted out, 5-9 undecided, 10-14 have not answered."""
    staff = [make_employee(f"f{i:02d}", f"F{i:04d}") for i in range(15)]
    for person, choice in zip(staff[:10], [Choice.OPT_OUT] * 5 + [Choice.UNDECIDED] * 5, strict=True):
        acknowledge(person)
        decide(person, choice)
    return staff


def deactivate(person):
    services.provision_employee(
        email=person.user.email,
        display_name=person.display_name,
        employee_number=person.employee_number,
        office=person.office,
        is_active=False,
    )


def test_the_command_publishes_once_per_release_time(people, settings):
    settings.FIGURES_RELEASE_TIMES = [datetime.time(6)]
    out = StringIO()
    with mock.patch("django.utils.timezone.now", return_value=local(2026, 11, 27, 7, 0)):
        call_command("publish_figures", stdout=out)
        call_command("publish_figures", stdout=out)
    assert FigureSnapshot.objects.count() == 1
    assert "Published snapshot #1" in out.getvalue()
    assert "Not due" in out.getvalue() and "2026-11-28T06:00" in out.getvalue()
    with mock.patch("django.utils.timezone.now", return_value=local(2026, 11, 28, 5, 59)):
        call_command("publish_figures", stdout=out)
    assert FigureSnapshot.objects.count() == 1
    with mock.patch("django.utils.timezone.now", return_value=local(2026, 11, 28, 6, 0)):
        call_command("publish_figures", stdout=out)
    assert FigureSnapshot.objects.count() == 2
    events = AuditEvent.objects.filter(kind="figures.published")
    assert [json.loads(e.body)["payload"] for e in events] == [{"number": 1, "k": 5}, {"number": 2, "k": 5}]
    assert {json.loads(e.body)["actor"] for e in events} == {"system"}


def test_the_command_help_states_its_rule(capsys):
    with pytest.raises(SystemExit):
        call_command("publish_figures", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "HR cannot publish" in text and "at least k - 1 others" in text


def test_release_times_wrap_around_midnight(settings):
    settings.FIGURES_RELEASE_TIMES = [datetime.time(6), datetime.time(18)]
    assert figures.release_due(local(2026, 11, 27, 5, 0)) == local(2026, 11, 26, 18, 0)
    assert figures.release_due(local(2026, 11, 27, 6, 0)) == local(2026, 11, 27, 6, 0)
    assert figures.next_release(local(2026, 11, 27, 6, 0)) == local(2026, 11, 27, 18, 0)
    assert figures.next_release(local(2026, 11, 27, 19, 0)) == local(2026, 11, 28, 6, 0)


def test_a_snapshot_stores_protected_rows_and_the_private_state_it_counts(people):
    snapshot = figures.publish_snapshot()
    published = figures.latest()
    assert published.snapshot == snapshot
    assert [(row.office, row.depth) for row in published.rows] == [(people[0].office, 0)]
    assert published.organisation.total == 15
    assert dict(published.organisation.counts) == {
        "opt_in": None,
        "opt_out": 5,
        "undecided": 5,
        "unanswered": 5,
    }
    assert PublishedState.objects.count() == 15


def test_published_rows_cannot_be_changed_afterwards(people):
    figures.publish_snapshot()
    with pytest.raises(DatabaseError), transaction.atomic():
        FigureRow.objects.update(opt_out=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        FigureSnapshot.objects.all().delete()


def test_leavers_leave_the_private_state_once_published_together(people):
    figures.publish_snapshot()
    for i in (0, 1, 5, 6, 10):
        deactivate(people[i])
    figures.publish_snapshot()
    assert PublishedState.objects.count() == 15  # five leavers, but no five alike: none published
    assert figures.latest().organisation.total == 15
    for i in (2, 3, 4):
        deactivate(people[i])
    figures.publish_snapshot()
    # The five who opted out have all left now: they are published together, the others still wait.
    assert PublishedState.objects.count() == 10
    assert set(PublishedState.objects.values_list("category", flat=True)) == {"undecided", "unanswered"}
    assert figures.latest().organisation.total == 10


def test_the_trend_shows_the_last_snapshot_of_each_completed_week(people):
    figures.publish_snapshot(now=local(2026, 11, 2, 6))  # a Monday
    for person in people[10:]:
        acknowledge(person)
        decide(person, Choice.OPT_IN)
    figures.publish_snapshot(now=local(2026, 11, 4, 6))  # five alike: opt-ins go from 0 to 5
    figures.publish_snapshot(now=local(2026, 11, 16, 6))
    figures.publish_snapshot(now=local(2026, 11, 23, 6))  # this week: not complete, not shown
    trend = figures.weekly_trend(now=local(2026, 11, 27, 12))
    assert [(week.day, figure.counts["opt_in"]) for week, figure in trend] == [(2, 5), (16, 5)]


def test_a_publish_changes_many_peoples_private_rows_in_bounded_statements(people, monkeypatch):
    """A statement takes at most 65,535 parameters on PostgreSQL (bound on the server) and
    32,766 on SQLite: after a campaign a publish can follow more people's changes than that,
    so the private rows are deleted in batches, never all in one statement."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    figures.publish_snapshot()
    for person in people[:5]:  # the five who opted out say "not decided yet"
        decide(person, Choice.UNDECIDED)
    for i in (10, 11, 12, 13, 14):  # five leavers who never answered
        deactivate(people[i])
    monkeypatch.setattr("consent.bulk.BATCH", 2)
    with CaptureQueriesContext(connection) as captured:
        figures.publish_snapshot()
    deletes = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('DELETE FROM "consent_publishedstate"')
    ]
    assert len(deletes) == 5  # ten stale rows, two at a time
    assert sorted(PublishedState.objects.values_list("category", flat=True)) == ["undecided"] * 10
