"""The employee's path: home, explanation, decision, history, receipts."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consent import chain, history_rows, hot, log, services
from consent.access import employee_required, has_role, own_decision_or_404, own_employee, sign_in_method
from consent.forms import AcknowledgeForm, DecisionForm
from consent.models import Choice, EventOpening, ExplanationVersion
from consent.receipts import consent_record, receipt_data, recorded_through

HISTORY_PAGE_SIZE = 20


@require_GET
def home(request):
    if not request.user.is_authenticated:
        return render(request, "consent/welcome.html", {"explanation": ExplanationVersion.current()})
    if not has_role(request.user, "employee"):
        return render(request, "consent/home.html", {"explanation": ExplanationVersion.current()})
    employee = own_employee(request)
    # The user read brought the current version and the acknowledgement of it.
    version, acknowledgement = employee.explanation_state
    context = {
        "explanation": version,
        "employee": employee,
        "acknowledgement": acknowledgement,
        "latest": hot.latest_decision(employee),
        "notices": services.notices_for(employee)[:5],
    }
    return render(request, "consent/home.html", context)


@require_GET
@employee_required
def explanation(request):
    version, acknowledgement = own_employee(request).explanation_state
    if version is None:
        return render(request, "consent/no_explanation.html", status=503)
    # One "viewed" event per version per session: a reload is not a new reading.
    seen_key = f"explanation_viewed_{version.number}"
    if not request.session.get(seen_key):
        services.record_explanation_viewed(user=request.user, version=version)
        request.session[seen_key] = True
    context = {
        "version": version,
        "acknowledgement": acknowledgement,
        # Once confirmed, the page shows no form.
        "form": None if acknowledgement else AcknowledgeForm(initial={"version": version.number}),
    }
    return render(request, "consent/explanation.html", context)


@require_POST
@employee_required
def acknowledge(request):
    version = ExplanationVersion.current()
    form = AcknowledgeForm(request.POST)
    if version is None:
        return redirect("explanation")
    # A version that is missing, garbled or not the current one: the page
    # posted was not the explanation as it reads now.
    if "version" in form.errors or (form.is_valid() and form.cleaned_data["version"] != version.number):
        messages.warning(
            request, _("The explanation was updated while you were reading. Please read the new version.")
        )
        return redirect("explanation")
    if not form.is_valid():
        if own_employee(request).explanation_state.acknowledgement is not None:
            # Already confirmed: the page shows no form to correct, so go on.
            return redirect("decision")
        context = {"version": version, "acknowledgement": None, "form": form}
        return render(request, "consent/explanation.html", context, status=400)
    services.acknowledge_explanation(user=request.user, version=version)
    messages.success(request, _("Thank you. You can now record your decision, or come back later."))
    return redirect("decision")


def _explanation_first(request):
    messages.info(
        request,
        _("Please read the explanation and confirm it first. It tells you that this choice is voluntary."),
    )
    return redirect("explanation")


@require_http_methods(["GET", "POST"])
@employee_required
def decision(request):
    employee = own_employee(request)
    form = DecisionForm(request.POST if request.method == "POST" else None)
    # HR may record card work after the page was shown without the warning:
    # then nothing is recorded until the employee has seen it. Only a withdrawal
    # posted from a page without the warning needs to look for that work.
    unwarned = (
        request.method == "POST"
        and request.POST.get("choice") in (Choice.OPT_OUT, Choice.UNDECIDED)
        and request.POST.get("warned") != "1"
        and services.withdrawal_names_employee(employee)
    )
    if request.method == "POST" and not unwarned and form.is_valid():
        # The service checks the acknowledgement inside its transaction: a valid
        # POST reads it once, there.
        try:
            recorded = services.record_decision(
                user=request.user,
                choice=form.cleaned_data["choice"],
                comment=form.cleaned_data["comment"],
                channel="web",
                sign_in_method=sign_in_method(request),
            )
        except services.NotAcknowledged:
            if not employee.acknowledgements.exists():
                return _explanation_first(request)
            messages.info(request, _("The explanation was updated. Please read it and confirm it again."))
            return redirect("explanation")
        except services.NoChange:
            comment = form.cleaned_data["comment"].strip()
            # Without a comment, or repeating the one just recorded (a double
            # submission), there is nothing to lose: say so on the history.
            if not comment or hot.latest_decision(employee).comment == comment:
                messages.info(
                    request, _("This choice is already your current decision, so nothing new was recorded.")
                )
                return redirect("history")
            # A comment belongs to a decision; the same choice again is no new
            # decision. Say so, and keep the text in the box so nothing typed is lost.
            form.add_error(
                "comment",
                _(
                    "Nothing was recorded, and this comment was not saved: the choice is the same as your "
                    "current decision. A comment is kept only together with a new decision."
                ),
            )
        else:
            messages.success(request, _("Your decision was recorded. This is your receipt."))
            return redirect("receipt", receipt_id=recorded.receipt_id)
    acknowledgement = employee.explanation_state.acknowledgement
    if acknowledgement is None:
        return _explanation_first(request)
    if unwarned:
        messages.warning(
            request,
            _("HR has just recorded work on your card. Nothing was recorded yet: read the note below first."),
        )
    status = 409 if unwarned else 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "latest": hot.latest_decision(employee),
        "acknowledgement": acknowledgement,
        "withdrawal_names_you": unwarned or services.withdrawal_names_employee(employee),
    }
    return render(request, "consent/decision.html", context, status=status)


@require_GET
@employee_required
def history(request):
    employee = own_employee(request)
    decisions, openings = hot.history(employee)
    page = Paginator(decisions, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    events_page = Paginator(openings, HISTORY_PAGE_SIZE).get_page(request.GET.get("events_page"))
    context = {
        "page": page,
        "employee": employee,
        "events_page": events_page,
        "decision_rows": history_rows.decision_rows(page.object_list),
        "event_rows": history_rows.event_rows(events_page.object_list),
    }
    return render(request, "consent/history.html", context)


@require_GET
@employee_required
def receipt(request, receipt_id):
    decision = own_decision_or_404(request, receipt_id)
    data = receipt_data(request, decision)
    context = {
        "decision": decision,
        "data": data,
        "opening_secret": chain.canonical_json(data["opening"]["secret"]).decode(),
        "revert_opened": services.revert_opened_by(decision),
        "recorded_through": recorded_through(decision),
    }
    return render(request, "consent/receipt.html", context)


@require_GET
@employee_required
def receipt_json(request, receipt_id):
    decision = own_decision_or_404(request, receipt_id)
    response = JsonResponse(
        receipt_data(request, decision), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = f'inline; filename="receipt-{decision.receipt_id}.json"'
    return response


def _tlog_proof_response(seq, filename):
    """The inclusion proof of event ``seq`` in a signed checkpoint that covers it,
    signed now if the latest does not: a decision's proof is there at once."""
    checkpoint = log.checkpoint_covering(seq)
    response = HttpResponse(log.tlog_proof(seq, checkpoint), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@employee_required
def receipt_tlog_proof(request, receipt_id):
    decision = own_decision_or_404(request, receipt_id)
    return _tlog_proof_response(decision.audit_seq, f"receipt-{decision.receipt_id}.tlog-proof")


@require_GET
@employee_required
def event_proof(request, seq):
    if not EventOpening.objects.filter(seq=seq, employee=own_employee(request)).exists():
        raise Http404
    return _tlog_proof_response(seq, f"event-{seq}.tlog-proof")


@require_GET
@employee_required
def receipt_jsonld(request, receipt_id):
    decision = own_decision_or_404(request, receipt_id)
    record = consent_record(request, decision, receipt_data(request, decision))
    response = JsonResponse(record, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Type"] = "application/ld+json"
    response["Content-Disposition"] = f'inline; filename="receipt-{decision.receipt_id}.jsonld"'
    return response
