import hashlib
import hmac
import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.core import context as allauth_context
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from consent import services
from consent.access import sign_in_method


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """Accounts are provisioned from the roster; nobody signs themselves up."""
        return False

    def is_reauthentication_required(self, *, app, **kwargs):
        """Setting up the first authenticator right after signing in does not
        ask for the password again: before any authenticator exists, adding
        one is the only thing MFA can do, and a password given in the last
        few minutes proves what a second prompt would. Everything else (a
        second device, new recovery codes, removal) still asks."""
        request = allauth_context.request
        if app == "allauth.mfa" and request is not None and request.user.is_authenticated:
            user = request.user
            if not Authenticator.objects.filter(user=user).exists():
                recent = time.time() - account_settings.REAUTHENTICATION_TIMEOUT
                records = get_authentication_records(request, user)
                if any(r.get("method") == "password" and r.get("at", 0) > recent for r in records):
                    return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def format_email_subject(self, subject):
        """The service's name, not the request's host ("[127.0.0.1:8000]")."""
        return f"[{gettext('Consent ledger')}] {subject}"

    def send_mail(self, template_prefix, email, context):
        """Account mails end with where to find help (templates/account/email/)."""
        context = {
            "site_url": settings.SITE_URL,
            "support_contact": settings.SUPPORT_CONTACT,
            "hr_contact": settings.HR_CONTACT,
            **context,
        }
        return super().send_mail(template_prefix, email, context)

    def get_client_ip(self, request):
        """Rate limits key on a keyed hash of the address, so the shared cache
        (a database table) never holds an IP address."""
        address = super().get_client_ip(request)
        digest = hmac.new(settings.PSEUDONYM_KEY.encode(), address.encode(), hashlib.sha256)
        return "h-" + digest.hexdigest()[:32]

    def post_login(self, request, user, **kwargs):
        # Called once every stage (password, then TOTP) has passed.
        with transaction.atomic():
            response = super().post_login(request, user, **kwargs)
            services.record_sign_in(user=user, methods=sign_in_method(request))
        return response
