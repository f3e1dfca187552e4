"""HR-facing figures: published snapshots, never live counts.

``publish_snapshot`` (run by the ``publish_figures`` command at fixed times)
counts the staff under the release rule of ``consent.stats`` and stores the
protected table; HR's pages and exports only ever read stored snapshots, in a
fixed number of queries whatever the number of employees or offices. The
private state the rule starts from (``PublishedState``) is read here alone.
"""

import csv
import datetime
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from consent import audit, bulk
from consent.models import Choice, Employee, FigureRow, FigureSnapshot, Office, PublishedState
from consent.stats import CATEGORIES, ORGANISATION, Figure, Release, release

REFERENCE_FILE = Path(__file__).resolve().parent / "content" / "reference_rates.csv"


@dataclass
class OfficeRow:
    office: Office
    depth: int
    figure: Figure


@dataclass
class Published:
    """The latest snapshot as HR sees it."""

    snapshot: FigureSnapshot
    organisation: Figure

    @cached_property
    def rows(self):
        """OfficeRow for each office, in the offices' own order: read when first used, so a page
        that shows the snapshot's table from the cache (thousands of offices) never reads them."""
        rows = self.snapshot.rows.select_related("office").order_by("position")[1:]
        return [OfficeRow(row.office, row.depth, _figure(row)) for row in rows]


def _figure(row):
    return Figure(
        key=row.office.code if row.office_id else ORGANISATION,
        total=row.total,
        counts={category: getattr(row, category) for category in CATEGORIES},
    )


def latest():
    """The latest published snapshot, or None before the first (two queries, a third for its rows)."""
    snapshot = FigureSnapshot.objects.order_by("-number").first()
    if snapshot is None:
        return None
    return Published(snapshot=snapshot, organisation=_figure(snapshot.rows.order_by("position").first()))


def release_due(now=None):
    """The latest scheduled release time at or before ``now`` (settings.FIGURES_RELEASE_TIMES, local time)."""
    now = timezone.localtime(now)
    for day in (now.date(), now.date() - datetime.timedelta(days=1)):
        for time in reversed(settings.FIGURES_RELEASE_TIMES):
            moment = timezone.make_aware(datetime.datetime.combine(day, time))
            if moment <= now:
                return moment
    raise AssertionError("a release time falls within every day")


def next_release(now=None):
    now = timezone.localtime(now)
    for day in (now.date(), now.date() + datetime.timedelta(days=1)):
        for time in settings.FIGURES_RELEASE_TIMES:
            moment = timezone.make_aware(datetime.datetime.combine(day, time))
            if moment > now:
                return moment
    raise AssertionError("a release time falls within every day")


@transaction.atomic
def publish_snapshot(*, now=None):
    """Count the staff under the release rule, store the protected table and the private state it
    counts, and record the publication on the audit chain; return the new snapshot."""
    now = now or timezone.now()
    k = settings.SUPPRESSION_K
    offices = {office.pk: office for office in Office.objects.all()}
    code = {pk: office.code for pk, office in offices.items()}
    by_code = {office.code: office for office in offices.values()}
    previous_snapshot = FigureSnapshot.objects.order_by("-number").first()
    previous = None
    if previous_snapshot is not None:
        previous = Release(
            people={
                employee: (code[office], category)
                for employee, office, category in PublishedState.objects.values_list(
                    "employee_id", "office_id", "category"
                ).iterator(chunk_size=10000)
            },
            parents={
                code[office]: code.get(parent)
                for office, parent in previous_snapshot.rows.exclude(office=None).values_list(
                    "office_id", "parent_id"
                )
            },
            figures={},
        )
    live = {
        employee: (code[office], choice or "unanswered")
        for employee, office, choice in Employee.objects.filter(is_active=True)
        .values_list("pk", "office_id", "current_choice")
        .iterator(chunk_size=10000)
    }
    parents = {office.code: code.get(office.parent_id) for office in offices.values()}
    published = release(previous, live, parents, k)
    snapshot = FigureSnapshot.objects.create(
        number=previous_snapshot.number + 1 if previous_snapshot else 1, published_at=now, k=k
    )
    FigureRow.objects.bulk_create(_rows(snapshot, published, by_code), batch_size=1000)
    _store_people(previous.people if previous else {}, published.people, by_code)
    audit.append("figures.published", actor=audit.SYSTEM, payload={"number": snapshot.number, "k": k})
    return snapshot


def _rows(snapshot, published, by_code):
    children = {}
    for key in sorted(published.parents):
        children.setdefault(published.parents[key], []).append(key)
    order = []

    def walk(parent, depth):
        for key in children.get(parent, []):
            order.append((key, depth))
            walk(key, depth + 1)

    walk(None, 0)
    rows = []
    for position, (key, depth) in enumerate([(ORGANISATION, 0), *order]):
        figure = published.figures[key]
        office = by_code.get(key)
        parent = published.parents.get(key)
        rows.append(
            FigureRow(
                snapshot=snapshot,
                office=office,
                parent=by_code[parent] if parent else None,
                position=position,
                depth=depth,
                total=figure.total,
                **figure.counts,
            )
        )
    return rows


def _store_people(before, after, by_code):
    """Bring the private table from ``before`` to ``after``, touching only the people who changed."""
    changed = [person for person, state in after.items() if before.get(person) != state]
    # In batches: a statement carries at most 65,535 parameters on PostgreSQL (bound on
    # the server) and 32,766 on SQLite, and a publish can follow many people's changes.
    stale = [*(before.keys() - after.keys()), *(person for person in changed if person in before)]
    for ids in bulk.batches(stale, bulk.BATCH):
        PublishedState.objects.filter(employee_id__in=ids).delete()
    PublishedState.objects.bulk_create(
        [
            PublishedState(employee_id=person, office=by_code[after[person][0]], category=after[person][1])
            for person in changed
        ],
        batch_size=bulk.BATCH,
    )


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


def weekly_trend(now=None):
    """The organisation's row of the last snapshot of each completed week (one query).

    Each is a row of a published table, protected with that table's office rows,
    so the trend can show nothing the tables did not. The week still running is
    left out: its last snapshot is not known yet.
    """
    this_week = week_start(now or timezone.now())
    last_of_week = {}
    for row in FigureRow.objects.filter(office=None).select_related("snapshot").order_by("snapshot__number"):
        week = week_start(row.snapshot.published_at)
        if week < this_week:
            last_of_week[week] = _figure(row)
    return sorted(last_of_week.items())


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
    """Points for a server-rendered SVG line of the weekly opt-in rate (percent).

    The national card issuance rate is not drawn: a line beside ours would read
    as a target ("we are below the nation"); the page gives it as context in words.
    """
    if not weeks:
        return None
    top = max([0] + [f.rate(Choice.OPT_IN) * 100 for _w, f in weeks if f.rate(Choice.OPT_IN)])
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
        "ticks": [{"label": f"{p}%", "y": y(p)} for p in range(0, scale_max + 1, max(10, scale_max // 4))],
        "first": weeks[0][0],
        "last": weeks[-1][0],
    }
