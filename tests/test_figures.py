"""The weekly replay shared by HR's trend and the union's jump indicator."""

import datetime

from django.utils import timezone

from consent.figures import weekly_states


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
