"""HR-facing figures: database reads turned into suppressed aggregates.

Every number HR sees goes through ``consent.stats.suppress``; nothing here
returns a person. Each function runs a fixed number of queries, whatever the
number of employees or offices.
"""

import csv
import datetime
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from consent.models import Choice, Decision, Employee, Office
from consent.stats import CATEGORIES, ORGANISATION, Unit, suppress

REFERENCE_FILE = Path(__file__).resolve().parent / "content" / "reference_rates.csv"


def _category(choice):
    return choice or "unanswered"


@dataclass
class OfficeRow:
    office: Office
    depth: int
    figure: object  # stats.Figure


def office_figures():
    """(organisation figure, office rows in the offices' own order with depth)."""
    offices = list(Office.objects.order_by("code"))
    direct = {o.pk: dict.fromkeys(CATEGORIES, 0) for o in offices}
    counts = (
        Employee.objects.filter(is_active=True).values("office_id", "current_choice").annotate(n=Count("id"))
    )
    for row in counts:
        direct[row["office_id"]][_category(row["current_choice"])] += row["n"]
    by_pk = {o.pk: o for o in offices}
    units = [
        Unit(key=o.code, parent=by_pk[o.parent_id].code if o.parent_id else None, counts=direct[o.pk])
        for o in offices
    ]
    figures = suppress(units, k=settings.SUPPRESSION_K)
    children = {}
    for office in offices:
        children.setdefault(office.parent_id, []).append(office)
    rows = []

    def walk(parent_id, depth):
        for office in children.get(parent_id, []):
            rows.append(OfficeRow(office, depth, figures[office.code]))
            walk(office.pk, depth + 1)

    walk(None, 0)
    return figures[ORGANISATION], rows


def week_start(moment):
    local = timezone.localtime(moment).date()
    return local - datetime.timedelta(days=local.weekday())


def weekly_states(decisions, today=None):
    """Replay decisions, in order, as ``(employee_id, state, created_at)``; yield
    ``(week_start, {employee_id: state})`` at the end of every week, Monday to
    Sunday in local time, from the first decision's week to this one. Weeks
    without decisions are yielded too, so neighbours are always one week apart.
    The dict is the live one: copy what you keep."""
    today = today or timezone.localdate()
    pending = iter(decisions)
    upcoming = next(pending, None)
    if upcoming is None:
        return
    current = {}
    week = week_start(upcoming[2])
    while week <= today:
        week_end = week + datetime.timedelta(days=7)
        while upcoming is not None and timezone.localtime(upcoming[2]).date() < week_end:
            current[upcoming[0]] = upcoming[1]
            upcoming = next(pending, None)
        yield week, current
        week = week_end


def weekly_trend(today=None):
    """Organisation figures at the end of each week.

    The denominator is today's active headcount, since the roster keeps no
    history of joiners.
    """
    headcount = Employee.objects.filter(is_active=True).count()
    decisions = (
        Decision.objects.filter(employee__is_active=True)
        .order_by("created_at", "audit_seq")
        .values_list("employee_id", "choice", "created_at")
    )
    weeks = []
    for week, current in weekly_states(decisions, today):
        counts = dict.fromkeys(CATEGORIES, 0)
        for choice in current.values():
            counts[choice] += 1
        counts["unanswered"] = headcount - len(current)
        units = [Unit(key="all", parent=None, counts=counts)]
        weeks.append((week, suppress(units, k=settings.SUPPRESSION_K)[ORGANISATION]))
    return weeks


@cache
def reference_rates():
    """The national issuance figures of May 2017 shipped with the app (see the file's header)."""
    with REFERENCE_FILE.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return [
            {
                "kind": r["kind"],
                "name": r["name"],
                "population": int(r["population"]),
                "issued": int(r["issued"]),
                "rate": float(r["rate_percent"]),
            }
            for r in rows
        ]


def national_rate():
    return next(r["rate"] for r in reference_rates() if r["name"] == "全国")


def trend_chart(weeks, width=640, height=240, margin=40):
    """Points for a server-rendered SVG line of the weekly opt-in rate (percent)."""
    if not weeks:
        return None
    top = max([national_rate()] + [f.rate(Choice.OPT_IN) * 100 for _w, f in weeks if f.rate(Choice.OPT_IN)])
    scale_max = max(10, int(top // 10 + 1) * 10)
    plot_w, plot_h = width - 2 * margin, height - 2 * margin
    step = plot_w / max(1, len(weeks) - 1)

    def y(percent):
        return round(margin + plot_h * (1 - percent / scale_max), 1)

    points = [
        (round(margin + i * step, 1), y(f.rate(Choice.OPT_IN) * 100))
        for i, (_w, f) in enumerate(weeks)
        if f.rate(Choice.OPT_IN) is not None
    ]
    return {
        "width": width,
        "height": height,
        "margin": margin,
        "right": width - margin,
        "bottom": height - margin,
        "points": " ".join(f"{x},{py}" for x, py in points),
        "dots": points,
        "reference_y": y(national_rate()),
        "ticks": [{"label": f"{p}%", "y": y(p)} for p in range(0, scale_max + 1, max(10, scale_max // 4))],
        "first": weeks[0][0],
        "last": weeks[-1][0],
    }
