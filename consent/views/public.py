"""Pages anyone may read, signed in or not: the explanation and where to get help."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from consent.access import has_role
from consent.models import ExplanationVersion


@require_GET
def explanation(request):
    """The current explanation, to read before signing in. Nothing is recorded
    here: reading it counts, and it is confirmed, only on the signed-in page."""
    version = ExplanationVersion.current()
    if version is None:
        return render(request, "consent/no_explanation.html", status=503)
    context = {"version": version, "is_employee": has_role(request.user, "employee")}
    return render(request, "consent/explanation_public.html", context)


@require_GET
def help_page(request):
    contacts = {
        "support": settings.SUPPORT_CONTACT,
        "hr": settings.HR_CONTACT,
        "union": settings.UNION_CONTACT,
    }
    return render(request, "consent/help.html", {"contacts": contacts})


def signup_closed(request):
    """Accounts come from the roster: allauth's sign-up page is never shown,
    whatever the method, and nothing a visitor sends is read."""
    messages.info(
        request,
        _(
            "Accounts are created by HR from the staff roster; there is no registration. "
            "Sign in with your work email address."
        ),
    )
    return redirect("account_login")


def email_from_roster(request):
    """Addresses come from the roster too. allauth's page to add one would let
    anyone at an unlocked desk add their own address, then reset the
    owner's password through it and record decisions in their name."""
    messages.info(request, _("Your email address comes from the staff roster. To change it, ask HR."))
    return redirect("home")
