"""The union's workspace: the complaint inbox, the audit chain it can verify
itself, checkpoints, the export bundle and coercion indicators."""

import datetime
import heapq
import itertools
import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max, Min
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent import audit, bundle, chain, events, indicators, log, services, verification
from consent.access import union_required
from consent.forms import CheckpointUploadForm, CosignatureForm, MessageForm, WitnessKeyForm
from consent.models import (
    AuditEvent,
    Checkpoint,
    Complaint,
    ComplaintMessage,
    Decision,
    Office,
    SignedCheckpoint,
    WitnessKey,
)

INBOX_PAGE_SIZE = 25
EVENTS_PAGE_SIZE = 50
HR_ACTION_KINDS = events.hr_actions()


@require_GET
@union_required
def inbox(request):
    complaints = Complaint.objects.select_related("office")
    filters = {
        "status": request.GET.get("status", ""),
        "role": request.GET.get("role", ""),
        "office": request.GET.get("office", ""),
        "identity": request.GET.get("identity", ""),
    }
    if filters["status"] in Complaint.Status.values:
        complaints = complaints.filter(status=filters["status"])
    if filters["role"] in Complaint.Role.values:
        complaints = complaints.filter(involved_role=filters["role"])
    if filters["office"]:
        complaints = complaints.filter(office__code=filters["office"])
    if filters["identity"] == "anonymous":
        complaints = complaints.filter(reporter=None)
    elif filters["identity"] == "named":
        complaints = complaints.exclude(reporter=None)
    page = Paginator(complaints.order_by("-created_at"), INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "statuses": Complaint.Status.choices,
        "involved_roles": Complaint.Role.choices,
        "offices": Office.objects.order_by("code"),
        "query": _without_page(request),
    }
    return render(request, "consent/union/inbox.html", context)


def _complaint_page(request, item, form, status=200):
    history = []
    if item.shared_pseudonym:
        history = Decision.objects.filter(employee__pseudonym=item.shared_pseudonym).order_by("audit_seq")
    context = {
        "complaint": item,
        "thread": item.messages.all(),
        "form": form,
        "statuses": Complaint.Status.choices,
        "history": history,
    }
    return render(request, "consent/union/complaint.html", context, status=status)


def _complaint(number):
    return get_object_or_404(
        Complaint.objects.select_related("office", "reporter", "reporter__office"), number=number
    )


@require_GET
@union_required
def complaint(request, number):
    return _complaint_page(request, _complaint(number), MessageForm())


@require_POST
@union_required
def complaint_message(request, number):
    item = _complaint(number)
    form = MessageForm(request.POST)
    if form.is_valid():
        internal = request.POST.get("internal") == "1"
        services.add_complaint_message(
            complaint=item,
            author=ComplaintMessage.UNION,
            body=form.cleaned_data["body"],
            internal=internal,
            user=request.user,
        )
        messages.success(
            request, _("The note was saved.") if internal else _("The message was sent to the reporter.")
        )
        return redirect("union_complaint", number=number)
    # The text stays in the box with its message, instead of being lost.
    return _complaint_page(request, item, form, status=400)


@require_POST
@union_required
def complaint_status(request, number):
    item = get_object_or_404(Complaint, number=number)
    try:
        services.set_complaint_status(
            complaint=item, status=request.POST.get("status", ""), user=request.user
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("The status is now: %(status)s.") % {"status": item.get_status_display()})
    return redirect("union_complaint", number=number)


def _without_page(request):
    query = request.GET.copy()
    for cursor in ("page", "before", "after"):
        query.pop(cursor, None)
    return query.urlencode()


def _parse_date(text):
    """A day of the filter, or None. The first and last days of the calendar are refused too:
    midnight in Tokyo on 0001-01-01 is before the first UTC instant, and 9999-12-31 has no next day."""
    try:
        day = datetime.date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day and datetime.date.min < day < datetime.date.max else None


def _party(value):
    """Who acted, or whom an event is about, in words; a staff identity by its first digits."""
    if not isinstance(value, str):
        return {"text": "—"}
    if value.startswith("c:"):
        return {"text": _("a record only the employee can open")}
    if value.startswith("staff:"):
        return {"text": _("role holder"), "code": value.removeprefix("staff:")[:8]}
    words = {
        audit.EMPLOYEE: _("the employee"),
        audit.SYSTEM: _("the system"),
        audit.COMPLAINANT: _("a complainant"),
    }
    return {"text": words.get(value, value)}


def _readable(event):
    """One row of the audit table: the registry's label and details, the raw body kept for the disclosure."""
    try:
        body = json.loads(event.body)
        kind = events.KINDS[event.kind]
        detail = kind.describe(body["payload"])
        actor, subject = body["actor"], body["subject"]
    # A forged or malformed row must still be listed (verification names it), never break the page.
    except (ValueError, KeyError, TypeError, AttributeError):
        detail, actor, subject = "", None, None
    return {
        "event": event,
        "label": events.label(event.kind),
        "detail": detail,
        "actor": _party(actor),
        "subject": _party(subject),
    }


@dataclass
class EventsPage:
    """One page of events, newest first, and the seqs that lead to the next pages (keyset
    pagination: a page costs the same at the millionth event as at the first, and nothing
    counts the whole table)."""

    object_list: list
    older: int | None  # ?before=
    newer: int | None  # ?after=


def _seq(text):
    try:
        value = int(text)
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def _local_midnight(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def _events_page(found, kinds, *, before=None, after=None):
    """EVENTS_PAGE_SIZE events of ``found`` (of ``kinds``, if given) before or after a seq.

    Each kind is read on its own through the (kind, seq) index, newest first, and
    the few rows merged here, so a filter by several kinds reads at most a page per kind.
    """
    size = EVENTS_PAGE_SIZE + 1  # one more tells whether a further page exists
    if after is not None:
        found, order = found.filter(seq__gt=after), "seq"
    else:
        found, order = (found.filter(seq__lt=before) if before is not None else found), "-seq"
    parts = [found.filter(kind=kind) for kind in kinds] if kinds is not None else [found]
    rows = heapq.merge(
        *(list(part.order_by(order)[:size]) for part in parts),
        key=lambda event: event.seq,
        reverse=order == "-seq",
    )
    rows = list(itertools.islice(rows, size))
    more = len(rows) == size
    rows = rows[:EVENTS_PAGE_SIZE]
    if after is not None:
        rows.reverse()
    if not rows:
        return EventsPage([], None, None)
    older = rows[-1].seq if (more if after is None else True) else None
    newer = rows[0].seq if (more if after is not None else before is not None) else None
    return EventsPage(rows, older, newer)


@require_GET
@union_required
def audit_view(request):
    # Resumes from the last verified point: the cost follows the new events only.
    result = verification.verify()
    filters = {
        "kind": request.GET.get("kind", ""),
        "start": request.GET.get("start", ""),
        "end": request.GET.get("end", ""),
        "hr": request.GET.get("hr", ""),
    }
    found = AuditEvent.objects.all()
    start, end = _parse_date(filters["start"]), _parse_date(filters["end"])
    # Whole local days, as bounds on the indexed column itself (no per-row date cast).
    if start:
        found = found.filter(occurred_at__gte=_local_midnight(start))
    if end:
        found = found.filter(occurred_at__lt=_local_midnight(end + datetime.timedelta(days=1)))
    if start and end:
        # The span's first and last seq, read through the occurred_at index, so the
        # page walks those days of the chain only, not every event after them (one
        # day in the middle of 10M events: 4.2 s without, a month 68 s). The count
        # keeps PostgreSQL from turning MIN/MAX into that same walk along seq.
        span = found.aggregate(first=Min("seq"), last=Max("seq"), events=Count("seq"))
        found = (
            found.filter(seq__gte=span["first"], seq__lte=span["last"])
            if span["first"] is not None
            else found.none()
        )
    if filters["hr"]:
        kinds = HR_ACTION_KINDS
    elif filters["kind"]:
        kinds = [filters["kind"]]
    else:
        kinds = None
    page = _events_page(
        found, kinds, before=_seq(request.GET.get("before")), after=_seq(request.GET.get("after"))
    )
    context = {
        "result": result,
        "page": page,
        "rows": [_readable(event) for event in page.object_list],
        "filters": filters,
        "kinds": events.choices(),
        "checkpoints": Checkpoint.objects.all(),
        "query": _without_page(request),
        "upload_form": CheckpointUploadForm(),
        "bad_dates": bool(filters["start"] and not start or filters["end"] and not end),
        "reversed_dates": bool(start and end and start > end),
    }
    return render(request, "consent/union/audit.html", context)


@require_POST
@union_required
def save_checkpoint(request):
    checkpoint = services.save_checkpoint(user=request.user)
    stamp = timezone.localtime(checkpoint.saved_at).strftime("%Y%m%d-%H%M")
    text = (
        "# consent ledger audit checkpoint: keep this file. Verify later with\n"
        "# python3 verify_chain.py events.jsonl --checkpoints-file THIS_FILE\n"
        f"# saved {audit.rfc3339(checkpoint.saved_at)}\n"
        f"{checkpoint.seq}:{checkpoint.entry_hash}\n"
    )
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="checkpoint-{checkpoint.seq}-{stamp}.txt"'
    return response


def _read_checkpoints(upload):
    try:
        text = upload.read(1_000_000).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(
            _("This is not a text file. Upload the checkpoint file saved from the audit page.")
        ) from None
    checkpoints = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            checkpoints.append(chain.parse_checkpoint(line))
        except ValueError:
            raise ValueError(
                _("Line %(number)s is not a checkpoint. Each line is SEQUENCE:HASH, for example 120:3f5a….")
                % {"number": number}
            ) from None
    return checkpoints


@require_POST
@union_required
def verify_checkpoints(request):
    form = CheckpointUploadForm(request.POST, request.FILES)
    outcome = None
    if form.is_valid():
        # The parser's reasons are English, for the command-line verifier; the
        # union officer is told in their own language which line is wrong.
        try:
            checkpoints = _read_checkpoints(form.cleaned_data["file"])
        except ValueError as error:
            form.add_error("file", str(error))
        else:
            if not checkpoints:
                form.add_error("file", _("The file holds no checkpoint."))
            else:
                outcome = {"checked": len(checkpoints), "result": audit.verify_database(checkpoints)}
    status = 400 if form.errors else 200
    return render(
        request, "consent/union/checkpoint_result.html", {"form": form, "outcome": outcome}, status=status
    )


@require_GET
@union_required
def export_bundle(request):
    services.record_access(user=request.user, kind="audit.exported")
    try:
        checkpoint = log.publish_checkpoint()
    except log.LogRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("union_audit")
    head = AuditEvent.objects.order_by("-seq").only("seq", "entry_hash").first()
    # Streamed as it is written: the first bytes leave at once, and memory stays flat at any length.
    pieces = bundle.bundle_pieces(
        export_lines=audit.export_lines(),
        checkpoints=[(c.seq, c.entry_hash, audit.rfc3339(c.saved_at)) for c in Checkpoint.objects.all()],
        head_seq=head.seq,
        head_hash=head.entry_hash,
        created_at=audit.rfc3339(timezone.now()),
        checkpoint_note=log.note_with_cosignatures(checkpoint),
        log_key=log.verifier_key(),
        texts_lines=log.text_lines(),
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(pieces, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="consent-audit-{stamp}.zip"'
    return response


@require_http_methods(["GET"])
@union_required
def indicators_view(request):
    # The roster imports to compare new accounts with, named as the audit page names them.
    context = {**indicators.compute(), "roster_imports": events.KINDS["roster.imported"].label}
    return render(request, "consent/union/indicators.html", context)


# --- The union as witness ------------------------------------------------------------


def _last_cosigned():
    return SignedCheckpoint.objects.filter(cosignatures__isnull=False).order_by("-size").first()


def _witness_page(request, *, key_form=None, cosignature_form=None, status=200):
    latest = log.latest_checkpoint()
    context = {
        "witnesses": WitnessKey.objects.order_by("registered_at"),
        "latest": latest,
        "last_cosigned": _last_cosigned(),
        "key_form": key_form or WitnessKeyForm(),
        "cosignature_form": cosignature_form
        or CosignatureForm(initial={"size": latest.size if latest else None}),
        "origin": settings.LOG_ORIGIN,
    }
    return render(request, "consent/union/witness.html", context, status=status)


@require_GET
@union_required
def witness(request):
    return _witness_page(request)


@require_POST
@union_required
def witness_key(request):
    form = WitnessKeyForm(request.POST)
    if form.is_valid():
        try:
            log.register_witness_key(user=request.user, vkey=form.cleaned_data["vkey"])
        except log.LogRefused as refusal:
            form.add_error("vkey", str(refusal))
        else:
            messages.success(request, _("The witness key was registered."))
            return redirect("union_witness")
    return _witness_page(request, key_form=form, status=400)


def _download(text, filename):
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@union_required
def witness_sign(request):
    """Sign the current head now, rather than wait for the timer."""
    try:
        log.publish_checkpoint()
    except log.LogRefused as refusal:
        messages.error(request, str(refusal))
    return redirect("union_witness")


# The checkpoint, its proof and the upload all name one size, so a checkpoint the
# timer signs in between cannot pair a proof with another checkpoint.


@require_GET
@union_required
def witness_checkpoint(request, size):
    checkpoint = get_object_or_404(SignedCheckpoint, size=size)
    services.record_access(user=request.user, kind="log.checkpoint_downloaded", payload={"size": size})
    return _download(checkpoint.note, f"checkpoint-{size}.txt")


@require_GET
@union_required
def witness_consistency(request, size):
    """The consistency proof from the last cosigned checkpoint to the signed one of ``size``."""
    checkpoint, previous = get_object_or_404(SignedCheckpoint, size=size), _last_cosigned()
    if previous is None or previous.size > size:
        raise Http404
    services.record_access(
        user=request.user, kind="log.consistency_downloaded", payload={"old": previous.size, "new": size}
    )
    text = chain.format_consistency_proof(
        previous.size, log.consistency_proof(previous.size, checkpoint.size)
    )
    return _download(text, f"consistency-{previous.size}-{size}.txt")


@require_POST
@union_required
def witness_cosignature(request):
    form = CosignatureForm(request.POST)
    if form.is_valid():
        try:
            log.add_cosignature(
                user=request.user, size=form.cleaned_data["size"], line=form.cleaned_data["line"]
            )
        except log.LogRefused as refusal:
            form.add_error("line", str(refusal))
        else:
            messages.success(request, _("The cosignature was checked and kept."))
            return redirect("union_witness")
    return _witness_page(request, cosignature_form=form, status=400)
