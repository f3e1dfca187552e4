"""seed_demo: a realistic demo organisation, made through the services, only in DEBUG."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from consent import figures
from consent.management.commands.seed_demo import WEEKS, demo_clock
from consent.models import (
    AuditEvent,
    Complaint,
    Decision,
    Employee,
    EventOpening,
    FigureSnapshot,
    Notice,
    Office,
    RoleGrant,
)


def payloads_of(kind):
    bodies = AuditEvent.objects.filter(kind=kind).values_list("body", flat=True)
    return [json.loads(body)["payload"] for body in bodies]


def test_it_refuses_to_run_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not Employee.objects.exists()


def test_it_builds_a_realistic_spread_and_is_idempotent(db, settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    employees = Employee.objects.count()
    events = AuditEvent.objects.count()
    assert employees > 100
    assert Office.objects.filter(employee__isnull=False).distinct().count() >= 8
    small = [o for o in Office.objects.all() if 0 < o.employee_set.count() < 5]
    assert small, "some offices are below the suppression threshold"
    unread = Employee.objects.filter(acknowledgements__isnull=True, user__role_grants__isnull=True).count()
    undecided = Employee.objects.filter(current_choice="undecided").count()
    withdrawn = Decision.objects.filter(previous_choice="opt_in").count()
    assert unread and undecided and withdrawn
    for seq, body in AuditEvent.objects.filter(kind="decision.recorded").values_list("seq", "body"):
        assert json.loads(body)["payload"]["demo"] is True
        assert json.loads(EventOpening.objects.get(seq=seq).secret)["channel"] == "demo-seed"
    assert "hr@demo.example.jp" in capsys.readouterr().out
    assert Notice.objects.filter(flagged_words=[]).count() == 1 and Notice.objects.count() == 2
    assert Complaint.objects.filter(reporter=None).count() == 1 and Complaint.objects.count() == 2
    # Roles and admin access granted through the services, so on the chain.
    granted = sorted(payload["role"] for payload in payloads_of("role.granted"))
    assert granted == ["hr", "union"] and RoleGrant.objects.count() == 2
    assert payloads_of("account.access_changed")[0] == {"is_staff": True, "is_superuser": True}
    call_command("seed_demo")
    assert Employee.objects.count() == employees
    assert AuditEvent.objects.count() == events


def test_its_history_spans_weeks_through_the_services_with_a_release_every_day(db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    weeks = {figures.week_start(moment) for moment in Decision.objects.values_list("created_at", flat=True)}
    assert len(weeks) >= WEEKS - 2, "decisions spread over the demo's weeks"
    assert all(moment < timezone.now() for moment in Decision.objects.values_list("created_at", flat=True))
    days = {
        timezone.localdate(moment) for moment in FigureSnapshot.objects.values_list("published_at", flat=True)
    }
    assert len(days) >= 7 * (WEEKS - 1)
    trend = figures.weekly_trend()
    assert len(trend) >= WEEKS - 2
    assert len({figure.counts["opt_out"] for _week, figure in trend}) > 1, "the trend moves"
    assert timezone.now() - timezone.now() < timezone.timedelta(seconds=1), "the real clock is back"


def test_the_demo_clock_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"), demo_clock(timezone.now()):
        pass
    settings.DEBUG = True
    moment = timezone.now() - timezone.timedelta(weeks=5)
    with demo_clock(moment):
        assert timezone.now() == moment and timezone.localdate() == timezone.localtime(moment).date()
    assert timezone.now() != moment


def test_it_refuses_a_database_with_real_staff(alice, settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="real staff"):
        call_command("seed_demo")
    assert not Employee.objects.filter(employee_number__startswith="D").exists()
