"""The union's coercion indicators: each one produced by the pattern it looks for,
and none by ordinary activity. State is built through the services."""

import datetime
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from consent import indicators, services
from consent.models import Choice
from tests.conftest import acknowledge, decide, sign_in_with_mfa


@pytest.fixture
def staff(make_employee):
    people = [make_employee(f"member{i}", f"M{i:04d}") for i in range(8)]
    for person in people:
        acknowledge(person)
    return people


def at(moment):
    """Run the services as if it were ``moment``."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_quiet_activity_raises_no_indicator(staff):
    for person in staff[:3]:
        decide(person, Choice.OPT_IN)
    result = indicators.compute()
    assert result["clusters"] == [] and result["changes"] == [] and result["jumps"] == []


def test_k_opt_ins_within_72_hours_of_a_notice_are_a_cluster(staff, hr, office):
    notice = services.publish_notice(
        user=hr.user, title="切替のお願い", body="ご検討ください。", offices=[office]
    )
    for person in staff[:5]:
        decide(person, Choice.OPT_IN)
    clusters = indicators.compute()["clusters"]
    assert [(row["office"], row["count"], row["notice"]) for row in clusters] == [(office, 5, notice.title)]


def test_fewer_than_k_opt_ins_or_opt_ins_after_the_window_are_no_cluster(staff, hr, office):
    services.publish_notice(user=hr.user, title="お知らせ", body="ご検討ください。", offices=[office])
    for person in staff[:4]:
        decide(person, Choice.OPT_IN)
    assert indicators.compute()["clusters"] == []
    with at(timezone.now() + indicators.CLUSTER_WINDOW + datetime.timedelta(hours=1)):
        decide(staff[4], Choice.OPT_IN)
    assert indicators.compute()["clusters"] == []


def test_a_head_of_unit_complaint_with_a_date_starts_a_cluster_window(staff, alice, office):
    services.file_complaint(
        user=alice.user,
        anonymous=True,
        what="pressured",
        involved_role="head_of_unit",
        details="課長から言われました",
        occurred_on=timezone.localdate(),
        office=office,
    )
    for person in staff[:5]:
        decide(person, Choice.OPT_IN)
    assert [row["count"] for row in indicators.compute()["clusters"]] == [5]


def test_changes_from_opt_out_to_opt_in_after_a_complaint_are_counted_and_hidden_below_k(
    staff, alice, office
):
    for person in staff:
        decide(person, Choice.OPT_OUT)
    services.file_complaint(
        user=alice.user,
        anonymous=False,
        what="pressured",
        involved_role="colleague",
        details="x",
        office=office,
    )
    for person in staff[:2]:
        decide(person, Choice.OPT_IN)
    [row] = indicators.compute()["changes"]
    assert row["office"] == office and row["count"] is None  # 2 < k: shown as hidden, never as 2
    for person in staff[2:6]:
        decide(person, Choice.OPT_IN)
    assert indicators.compute()["changes"][0]["count"] == 6


def test_a_change_later_than_14_days_after_the_complaint_is_not_counted(staff, alice, office):
    decide(staff[0], Choice.OPT_OUT)
    services.file_complaint(
        user=alice.user,
        anonymous=False,
        what="pressured",
        involved_role="colleague",
        details="x",
        office=office,
    )
    with at(timezone.now() + indicators.CHANGE_WINDOW + datetime.timedelta(days=1)):
        decide(staff[0], Choice.OPT_IN)
    assert indicators.compute()["changes"] == []


def test_a_rise_of_ten_points_in_a_week_is_a_jump(staff, office, union):
    now = timezone.now()
    with at(now - datetime.timedelta(days=21)):
        decide(staff[0], Choice.OPT_OUT)
    with at(now - datetime.timedelta(days=7)):
        for person in staff[:6]:
            decide(person, Choice.OPT_IN)
    jumps = indicators.compute(now)["jumps"]
    assert jumps, "six of eleven people opting in within one week is a jump"
    assert {row["office"] for row in jumps} == {office}
    assert max(row["rise"] for row in jumps) >= indicators.JUMP_POINTS
    page = sign_in_with_mfa(Client(), union.user).get("/union/indicators/")
    assert page.status_code == 200
    for person in staff:
        assert person.display_name not in page.content.decode()


def test_a_slow_rise_is_no_jump(staff, make_employee):
    for i in range(12):  # 20 people: one more opt-in a week is 5 points
        make_employee(f"extra{i}", f"X{i:04d}")
    now = timezone.now()
    for weeks_ago, person in zip(range(8, 2, -1), staff[:6], strict=True):
        with at(now - datetime.timedelta(weeks=weeks_ago)):
            decide(person, Choice.OPT_IN)
    assert indicators.compute(now)["jumps"] == []
