"""Coercion indicators for the union. Each is a reason to look closer, not a
finding; each uses the same small-cell suppression as HR's figures and none
names an employee."""

import datetime

from django.conf import settings
from django.db.models import Count, F
from django.utils import timezone

from consent.figures import weekly_states
from consent.models import Choice, Complaint, Decision, Employee, Notice, Office

CLUSTER_WINDOW = datetime.timedelta(hours=72)
CHANGE_WINDOW = datetime.timedelta(days=14)
JUMP_POINTS = 10


def _hidden(count):
    """A count as shown: None (fewer than k) or the number."""
    return count if count >= settings.SUPPRESSION_K else None


def _subtree(office_ids, children):
    found, todo = set(), list(office_ids)
    while todo:
        office = todo.pop()
        if office not in found:
            found.add(office)
            todo.extend(children.get(office, ()))
    return found


def compute(now=None):
    now = now or timezone.now()
    offices = {o.pk: o for o in Office.objects.all()}
    children = {}
    for office in offices.values():
        children.setdefault(office.parent_id, []).append(office.pk)
    opt_ins = list(
        Decision.objects.filter(choice=Choice.OPT_IN).values_list(
            "employee__office_id", "created_at", "previous_choice"
        )
    )
    return {
        "flagged_notices": Notice.objects.exclude(flagged_words=[]).prefetch_related("offices"),
        "clusters": _clusters(offices, children, opt_ins),
        "changes": _changes_after_complaints(offices, children, opt_ins),
        "jumps": _weekly_jumps(offices, now),
        "new_accounts": _new_accounts_deciding(offices),
        "new_account_days": settings.NEW_ACCOUNT_DECISION_DAYS,
        "k": settings.SUPPRESSION_K,
        "cluster_hours": int(CLUSTER_WINDOW.total_seconds() // 3600),
        "change_days": CHANGE_WINDOW.days,
        "jump_points": JUMP_POINTS,
    }


def _events():
    """Moments that may put pressure on an office: notices, and complaints about a head of unit."""
    for notice in Notice.objects.prefetch_related("offices"):
        yield notice.published_at, [o.pk for o in notice.offices.all()] or None, notice.title
    head_of_unit = Complaint.objects.filter(involved_role=Complaint.Role.HEAD_OF_UNIT).exclude(office=None)
    for complaint in head_of_unit.exclude(occurred_on=None):
        start = timezone.make_aware(datetime.datetime.combine(complaint.occurred_on, datetime.time()))
        yield start, [complaint.office_id], None


def _clusters(offices, children, opt_ins):
    """Offices where at least k opt-ins came within 72 hours after a notice or a head-of-unit event."""
    rows = []
    for start, office_ids, title in _events():
        scope = _subtree(office_ids, children) if office_ids else set(offices)
        per_office = {}
        for office_id, when, _previous in opt_ins:
            if office_id in scope and start <= when < start + CLUSTER_WINDOW:
                per_office[office_id] = per_office.get(office_id, 0) + 1
        for office_id, count in sorted(per_office.items(), key=lambda item: offices[item[0]].code):
            if count >= settings.SUPPRESSION_K:
                rows.append({"office": offices[office_id], "start": start, "count": count, "notice": title})
    return rows


def _changes_after_complaints(offices, children, opt_ins):
    """Opt-out → opt-in changes in an office within 14 days after a complaint about it."""
    rows = []
    for complaint in Complaint.objects.exclude(office=None).order_by("created_at"):
        scope = _subtree([complaint.office_id], children)
        count = sum(
            1
            for office_id, when, previous in opt_ins
            if previous == Choice.OPT_OUT
            and office_id in scope
            and complaint.created_at <= when < complaint.created_at + CHANGE_WINDOW
        )
        if count:
            rows.append(
                {
                    "office": offices[complaint.office_id],
                    "since": complaint.created_at,
                    "count": _hidden(count),
                }
            )
    return rows


def _weekly_jumps(offices, now):
    """Offices whose opt-in rate rose by 10 points or more from one week to the next."""
    headcount = dict(
        Employee.objects.filter(is_active=True)
        .values_list("office_id")
        .annotate(n=Count("id"))
        .values_list("office_id", "n")
    )
    decisions = (
        (employee_id, (office_id, choice), when)
        for employee_id, office_id, choice, when in Decision.objects.filter(employee__is_active=True)
        .order_by("created_at", "audit_seq")
        .values_list("employee_id", "employee__office_id", "choice", "created_at")
        .iterator()
    )
    weekly = {
        week: _opt_ins_by_office(current)
        for week, current in weekly_states(decisions, timezone.localdate(now))
    }
    rows, previous = [], None
    for week in sorted(weekly):
        if previous is not None:
            for office_id, count in weekly[week].items():
                total = headcount.get(office_id, 0)
                before = weekly[previous].get(office_id, 0)
                if total < settings.SUPPRESSION_K or count < settings.SUPPRESSION_K:
                    continue
                rise = (count - before) * 100 / total
                if rise >= JUMP_POINTS:
                    rows.append({"office": offices[office_id], "week": week, "rise": round(rise)})
        previous = week
    return sorted(rows, key=lambda row: (row["week"], row["office"].code))


def _opt_ins_by_office(current):
    counts = {}
    for office_id, choice in current.values():
        if choice == Choice.OPT_IN:
            counts[office_id] = counts.get(office_id, 0) + 1
    return counts


def _new_accounts_deciding(offices):
    """Accounts created or re-addressed by provisioning (the roster import) that
    recorded a decision within NEW_ACCOUNT_DECISION_DAYS, per office and week.

    An account HR invents for an address it controls is made to be used at
    once. A row appears even when the count is hidden: one such account is
    what this indicator is for, and the row says nothing of any choice."""
    window = datetime.timedelta(days=settings.NEW_ACCOUNT_DECISION_DAYS)
    accounts = (
        Employee.objects.exclude(provisioned_at=None)
        .filter(
            decisions__created_at__gte=F("provisioned_at"),
            decisions__created_at__lt=F("provisioned_at") + window,
        )
        .values_list("pk", "office_id", "provisioned_at")
        .distinct()
    )
    per_week = {}
    for _pk, office_id, provisioned_at in accounts:
        day = timezone.localdate(provisioned_at)
        week = day - datetime.timedelta(days=day.weekday())
        per_week[(office_id, week)] = per_week.get((office_id, week), 0) + 1
    order = sorted(per_week, key=lambda key: (key[1], offices[key[0]].code))
    return [
        {"office": offices[office_id], "week": week, "count": _hidden(per_week[office_id, week])}
        for office_id, week in order
    ]
