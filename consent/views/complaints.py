"""The employee's side of complaints: file one (named or anonymous), follow it up.

Anonymous follow-up never touches the session (which is tied to an account in
the database): access rides on a short-lived signed cookie in the browser.
"""

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from consent import services
from consent.access import employee_required, has_role
from consent.forms import ComplaintForm, MessageForm, ReceiptCodeForm
from consent.models import Complaint, ComplaintMessage

ACCESS_COOKIE = "complaint_access"
ACCESS_MAX_AGE = 60 * 60


@require_http_methods(["GET", "POST"])
def new(request):
    """Signed in, an employee may send it named or anonymously. Signed out,
    anyone may send it anonymously: then not even the timing of a signed-in
    session sits next to it on the audit chain."""
    signed_in = request.user.is_authenticated
    if signed_in and not has_role(request.user, "employee"):
        raise PermissionDenied
    form = ComplaintForm(request.POST if request.method == "POST" else None, signed_in=signed_in)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        anonymous = data["identity"] == "anonymous"
        complaint, code = services.file_complaint(
            user=request.user if signed_in else None,
            anonymous=anonymous,
            what=data["what"],
            involved_role=data["involved_role"],
            details=data["details"],
            occurred_on=data["occurred_on"],
            office=data["office"],
            share_pseudonym=data.get("share_pseudonym", False) and not anonymous,
        )
        if anonymous:
            # Shown once, in this response only: it is stored nowhere in the clear,
            # and not in the browser's cache either (an office PC is shared).
            response = render(
                request, "consent/complaints/receipt_code.html", {"code": code, "complaint": complaint}
            )
            add_never_cache_headers(response)
            return response
        messages.success(request, _("Your complaint was sent to the union."))
        return redirect("complaint", number=complaint.number)
    status = 400 if request.method == "POST" else 200
    return render(request, "consent/complaints/new.html", {"form": form}, status=status)


@require_http_methods(["GET"])
@employee_required
def mine(request):
    complaints = Complaint.objects.filter(reporter__user=request.user).order_by("-created_at")
    return render(request, "consent/complaints/mine.html", {"complaints": complaints})


@require_http_methods(["GET", "POST"])
def follow_up(request):
    """Open an anonymous complaint with its receipt code, signed in or not."""
    form = ReceiptCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        # Counts the attempt against the complaint number, atomically (see the service).
        complaint = services.complaint_for_code(form.cleaned_data["code"])
        if complaint is not None:
            response = redirect("complaint", number=complaint.number)
            response.set_signed_cookie(
                ACCESS_COOKIE,
                complaint.number,
                salt=ACCESS_COOKIE,
                max_age=ACCESS_MAX_AGE,
                httponly=True,
                secure=request.is_secure(),
                samesite="Strict",
            )
            return response
        # The same words whether the code is wrong, unknown or rate-limited.
        form.add_error("code", _("This code does not open a complaint. Check it, or try again later."))
    status = 400 if request.method == "POST" else 200
    return render(request, "consent/complaints/follow_up.html", {"form": form}, status=status)


def _complaint_for(request, number):
    """The complaint if this browser holds its code, or the signed-in reporter named it; else 404."""
    try:
        allowed = request.get_signed_cookie(ACCESS_COOKIE, salt=ACCESS_COOKIE, max_age=ACCESS_MAX_AGE)
    except (KeyError, signing.BadSignature):
        allowed = None
    complaint = Complaint.objects.filter(number=number).select_related("office").first()
    if complaint is None:
        raise Http404
    if complaint.anonymous and allowed == number:
        return complaint
    if (
        not complaint.anonymous
        and request.user.is_authenticated
        and complaint.reporter.user_id == request.user.pk
    ):
        return complaint
    raise Http404


@require_http_methods(["GET"])
def detail(request, number):
    complaint = _complaint_for(request, number)
    thread = complaint.messages.filter(internal=False)
    context = {"complaint": complaint, "thread": thread, "form": MessageForm()}
    return render(request, "consent/complaints/detail.html", context)


@require_POST
def reply(request, number):
    complaint = _complaint_for(request, number)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            services.add_complaint_message(
                complaint=complaint, author=ComplaintMessage.REPORTER, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, _("Your message was sent to the union."))
            return redirect("complaint", number=number)
    thread = complaint.messages.filter(internal=False)
    return render(
        request,
        "consent/complaints/detail.html",
        {"complaint": complaint, "thread": thread, "form": form},
        status=400,
    )


@require_http_methods(["GET", "POST"])
def withdraw(request, number):
    """GET asks to confirm; only the POST from that page withdraws."""
    complaint = _complaint_for(request, number)
    if request.method == "GET":
        if not complaint.is_open:
            return redirect("complaint", number=number)
        return render(request, "consent/complaints/withdraw_confirm.html", {"complaint": complaint})
    try:
        services.set_complaint_status(complaint=complaint, status=Complaint.Status.WITHDRAWN)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Your complaint is withdrawn. The union keeps no further work on it."))
    return redirect("complaint", number=number)
