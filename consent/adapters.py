import hashlib
import hmac

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.db import transaction

from consent import services
from consent.access import sign_in_method


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """Accounts are provisioned from the roster; nobody signs themselves up."""
        return False

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
