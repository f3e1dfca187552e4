"""HR's workspace: figures without refusals, the roster, the switch-over queue,
explanation versions and notices. No view here can record or change a decision."""

import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent import csvsafe, figures, services, wording
from consent.access import hr_required
from consent.forms import ExplanationVersionForm, NoticeForm, QueueSearchForm, RosterUploadForm
from consent.models import Choice, ExplanationVersion, Notice, RosterPreview, SwitchoverCase
from consent.roster import MAX_BYTES, parse_roster
from consent.stats import CATEGORIES

QUEUE_PAGE_SIZE = 50
PREVIEW_NAMES = 200  # people named in each list of the roster preview
ROSTER_SESSION_KEY = "hr_roster_upload"


def _as_of(moment):
    # Japanese reads "2026年11月27日 06:00"; the format itself is translated.
    return date_format(timezone.localtime(moment), _("N j, Y, H:i"))


@require_GET
@hr_required
def dashboard(request):
    published = figures.latest()
    weeks = figures.weekly_trend()
    context = {
        "published": published,
        "as_of": _as_of(published.snapshot.published_at) if published else None,
        "next_release": _as_of(figures.next_release()),
        "categories": CATEGORIES,
        "weeks": weeks,
        "chart": figures.trend_chart(weeks),
        "national_rate": figures.national_rate(),
        "references": [r for r in figures.reference_rates() if r["kind"] == "prefecture"],
        "groups": [r for r in figures.reference_rates() if r["kind"] == "group"],
        "suppression_k": settings.SUPPRESSION_K,
    }
    return render(request, "consent/hr/dashboard.html", context)


@require_GET
@hr_required
def export_csv(request):
    published = figures.latest()
    if published is None:
        messages.info(request, _("No figures have been published yet, so there is nothing to download."))
        return redirect("hr_dashboard")
    services.record_access(
        user=request.user, kind="hr.figures_exported", payload={"snapshot": published.snapshot.number}
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(published.snapshot.published_at).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="consent-figures-{stamp}.csv"'
    # The BOM makes Japanese Excel read the file as UTF-8.
    response.write("\ufeff")
    writer = csvsafe.writer(response)
    hidden = _("hidden")
    as_of = _as_of(published.snapshot.published_at)
    writer.writerow(
        [_("Figures as of"), _("Office code"), _("Office"), _("Staff")]
        + [str(label) for label in _category_labels()]
        + [_("Opt-in rate (%)")]
    )

    def cell(value):
        return hidden if value is None else value

    for code, name, figure in [("", _("Whole organisation"), published.organisation)] + [
        (row.office.code, row.office.name, row.figure) for row in published.rows
    ]:
        rate = figure.rate(Choice.OPT_IN)
        writer.writerow(
            [as_of, code, name, cell(figure.total)]
            + [cell(figure.counts[c]) for c in CATEGORIES]
            + [hidden if rate is None else f"{rate * 100:.1f}"]
        )
    return response


def _category_labels():
    return [Choice.OPT_IN.label, Choice.OPT_OUT.label, Choice.UNDECIDED.label, _("Not answered yet")]


@require_http_methods(["GET", "POST"])
@hr_required
def roster(request):
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # One byte past the limit is enough for the parser to refuse the file.
        data = upload.read(MAX_BYTES + 1)
        parsed = parse_roster(data, form.cleaned_data["encoding"] or None)
        plan = services.plan_roster(parsed, user=request.user)
        _drop_previews(request)
        if not plan.errors:
            token = secrets.token_urlsafe(32)
            RosterPreview.objects.create(
                token=token,
                user=request.user,
                data=data,
                encoding=parsed.encoding,
                sha256=parsed.sha256,
                created_at=timezone.now(),
            )
            request.session[ROSTER_SESSION_KEY] = token
        lists = {name: getattr(plan, name) for name in ("create", "update", "deactivate")}
        context = {
            "form": form,
            "parsed": parsed,
            "plan": plan,
            "file_name": upload.name,
            # A first import of the whole staff is 100,000 names: the page names the first few.
            "shown": {name: rows[:PREVIEW_NAMES] for name, rows in lists.items()},
            "more": {name: max(0, len(rows) - PREVIEW_NAMES) for name, rows in lists.items()},
        }
        return render(request, "consent/hr/roster_preview.html", context, status=400 if plan.errors else 200)
    status = 400 if request.method == "POST" else 200
    return render(request, "consent/hr/roster.html", {"form": form}, status=status)


@require_POST
@hr_required
def roster_confirm(request):
    stored = RosterPreview.objects.filter(
        token=request.session.get(ROSTER_SESSION_KEY, ""),
        user=request.user,
        created_at__gte=timezone.now() - RosterPreview.MAX_AGE,
    ).first()
    _drop_previews(request)
    if stored is None or stored.sha256 != request.POST.get("sha256"):
        messages.error(request, _("The preview has expired. Please upload the file again."))
        return redirect("hr_roster")
    parsed = parse_roster(bytes(stored.data), stored.encoding)
    try:
        plan = services.import_roster(user=request.user, parsed=parsed)
    except services.RosterRefused:
        messages.error(
            request, _("The roster changed since the preview and was not imported. Please upload it again.")
        )
        return redirect("hr_roster")
    if plan.changes:
        messages.success(
            request,
            _("Roster imported: %(created)d created, %(updated)d updated, %(deactivated)d deactivated.")
            % {"created": len(plan.create), "updated": len(plan.update), "deactivated": len(plan.deactivate)},
        )
        if plan.invitations:
            messages.info(
                request,
                _(
                    "%(count)d invitations to set a password are queued; they are sent by the "
                    "mail timer within a few minutes."
                )
                % {"count": plan.invitations},
            )
    else:
        messages.info(request, _("The roster matches the current staff; nothing changed."))
    return redirect("hr_roster")


def _drop_previews(request):
    """Forget this session's preview, and every preview past its age (the periodic clean-up)."""
    token = request.session.pop(ROSTER_SESSION_KEY, "")
    RosterPreview.objects.filter(
        Q(token=token, user=request.user) | Q(created_at__lt=timezone.now() - RosterPreview.MAX_AGE)
    ).delete()


@require_GET
@hr_required
def queue(request):
    """Only people whose current decision is opt-in, and reverts after a withdrawal."""
    cases = SwitchoverCase.objects.filter(closed_at=None).select_related("employee", "employee__office")
    # A search too long is refused with the form's message, never cut short.
    form = QueueSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    if query:
        cases = cases.filter(
            Q(employee__display_name__icontains=query) | Q(employee__employee_number__icontains=query)
        )
    page = Paginator(cases.order_by("kind", "opened_at", "pk"), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    services.record_access(
        user=request.user,
        kind="switchover.queue_opened",
        payload={"page": page.number, "searched": bool(query)},
    )
    context = {
        "form": form,
        "page": page,
        "query": query,
        "query_string": urlencode({"q": query}) if query else "",
    }
    return render(request, "consent/hr/queue.html", context, status=200 if form.is_valid() else 400)


@require_POST
@hr_required
def queue_step(request, case_id):
    case = get_object_or_404(SwitchoverCase, pk=case_id, closed_at=None)
    try:
        services.record_switchover_step(user=request.user, case=case, step=request.POST.get("step", ""))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request, _("The step was recorded for %(name)s.") % {"name": case.employee.display_name}
        )
    return redirect("hr_queue")


@require_http_methods(["GET", "POST"])
@hr_required
def explanation(request):
    current = ExplanationVersion.current()
    initial = (
        {name: getattr(current, name) for name in ExplanationVersionForm.base_fields} if current else None
    )
    form = ExplanationVersionForm(request.POST or None, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "publish":
            version = services.publish_explanation_version(user=request.user, fields=form.cleaned_data)
            messages.success(
                request,
                _(
                    "Version %(number)d is published. "
                    "Everyone must read and confirm it before their next decision."
                )
                % {"number": version.number},
            )
            return redirect("hr_explanation")
        preview = form.cleaned_data
    status = 400 if request.method == "POST" and form.errors else 200
    versions = ExplanationVersion.objects.order_by("-number")
    context = {"form": form, "current": current, "preview": preview, "versions": versions}
    return render(request, "consent/hr/explanation.html", context, status=status)


@require_http_methods(["GET", "POST"])
@hr_required
def notices(request):
    form = NoticeForm(request.POST or None)
    flagged, preview = [], None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        preview = data
        flagged = wording.flagged_words(data["title"], data["body"])
        if request.POST.get("action") == "publish":
            try:
                services.publish_notice(
                    user=request.user,
                    title=data["title"],
                    body=data["body"],
                    offices=data["offices"],
                    accept_flagged=data["accept_flagged"],
                )
            except services.CompulsionWording:
                form.add_error(
                    "accept_flagged",
                    _("This wording may sound compulsory. Reword it, or tick the box to publish anyway."),
                )
            else:
                messages.success(request, _("The notice is published to the staff it addresses."))
                return redirect("hr_notices")
    status = 400 if request.method == "POST" and form.errors else 200
    page = Paginator(Notice.objects.prefetch_related("offices"), 20).get_page(request.GET.get("page"))
    context = {"form": form, "flagged": flagged, "page": page, "preview": preview}
    return render(request, "consent/hr/notices.html", context, status=status)
