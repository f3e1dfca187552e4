"""Who may open what: role checks, scoped getters and the MFA requirement.

Views ask here before anything else. Outside your scope a record is a 404
(its existence is not confirmed); the wrong role is a 403.
"""

from functools import wraps
from urllib.parse import quote

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.contrib.auth import backends
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse

from consent import routers
from consent.hot import GRANTED_ROLES, user_with_roles
from consent.models import Decision, Employee, normalise_receipt_id

PRIVILEGED_ROLES = ("hr", "union", "admin")
# Whose page reads may go to a replica (consent/routers.py).
REPLICA_ROLES = ("hr", "union")


class LoadsRolesMixin:
    """Load the signed-in user with their employee record, office and role grants
    in one query (consent/hot.py): every page asks for all three, and each request
    loads them afresh, so a revoked grant or a deactivated employee counts at once."""

    def get_user(self, user_id):
        user = user_with_roles(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(LoadsRolesMixin, backends.ModelBackend):
    pass


class AuthenticationBackend(LoadsRolesMixin, AllauthBackend):
    pass


def _employee_of(user):
    """The user's employee record, as loaded with the user (None if there is none)."""
    return getattr(user, "employee", None)


def roles_of(user):
    """The set of roles a user holds: employee, hr, union, admin."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_consent_roles", None)
    if cached is None:
        if all(hasattr(user, f"_grant_{role}") for role in GRANTED_ROLES):
            roles = {role for role in GRANTED_ROLES if getattr(user, f"_grant_{role}")}
        else:
            roles = set(user.role_grants.values_list("role", flat=True))
        employee = _employee_of(user)
        if employee is not None and employee.is_active:
            roles.add("employee")
        if user.is_staff:
            roles.add("admin")
        cached = user._consent_roles = frozenset(roles)
    return cached


def has_role(user, role):
    return role in roles_of(user)


def is_privileged(user):
    return bool(roles_of(user) & set(PRIVILEGED_ROLES))


def role_required(role):
    """Anonymous users go to sign-in; signed-in users without the role get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, role):
                raise PermissionDenied
            if role in PRIVILEGED_ROLES and not signed_in_with_mfa(request):
                # TOTP is set up (the middleware sees to that) but this session
                # never gave a code: ask for one before a privileged page opens.
                return redirect(reverse("mfa_reauthenticate") + "?next=" + quote(request.get_full_path()))
            if role in REPLICA_ROLES and request.method in ("GET", "HEAD"):
                with routers.replica_reads():
                    return view(request, *args, **kwargs)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


employee_required = role_required("employee")
hr_required = role_required("hr")
union_required = role_required("union")


def own_employee(request):
    employee = _employee_of(request.user)
    if employee is None or not employee.is_active:
        raise Employee.DoesNotExist
    return employee


def own_decision_or_404(request, receipt_id):
    try:
        return Decision.objects.select_related("explanation_version", "employee").get(
            # Both: an earlier receipt number could look like a mistyped new one.
            receipt_id__in={receipt_id, normalise_receipt_id(receipt_id)},
            employee__user=request.user,
        )
    except Decision.DoesNotExist:
        raise Http404 from None


def sign_in_method(request):
    """How the current session signed in, e.g. "password+totp"."""
    records = get_authentication_records(request, request.user)
    parts = [r.get("type", "mfa") if r.get("method") == "mfa" else r.get("method") for r in records]
    return "+".join(dict.fromkeys(p for p in parts if p)) or "session"


def signed_in_with_mfa(request):
    return any(r.get("method") == "mfa" for r in get_authentication_records(request, request.user))


def has_totp(user):
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class PrivilegedRoleMFAMiddleware:
    """Send HR, union and administrator accounts to set up TOTP before anything else.

    allauth then asks for the code at every later sign-in; this only closes
    the gap before the first set-up.
    """

    EXEMPT_PREFIXES = ("/accounts/", "/static/", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(self.EXEMPT_PREFIXES)
            and is_privileged(user)
            and not has_totp(user)
        ):
            # Set-up ends on the recovery codes, whose "continue" returns here.
            back = request.get_full_path() if request.method == "GET" else reverse("home")
            return redirect(reverse("mfa_activate_totp") + "?next=" + quote(back))
        return self.get_response(request)


class RefuseNulMiddleware:
    """A NUL byte in the path or a parameter is never meaningful here, and
    PostgreSQL refuses it deep inside a query: answer 400 at the door."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        values = [request.path] + [v for _k, v in request.GET.lists() for v in v]
        if request.method == "POST" and request.content_type != "multipart/form-data":
            values += [v for _k, v in request.POST.lists() for v in v]
        if any("\x00" in value for value in values):
            return HttpResponseBadRequest("NUL")
        return self.get_response(request)


def roles_context(request):
    user = getattr(request, "user", None)
    return {"roles": roles_of(user) if user is not None else frozenset()}
