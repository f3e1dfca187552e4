"""Two of allauth's MFA views, adjusted so a privileged account's first sign-in
takes three screens (password, authenticator app, recovery codes) and then
continues to the page the person was going to."""

from allauth.account.utils import get_next_redirect_url
from allauth.core.internal.httpkit import add_query_params
from allauth.mfa.base.internal.flows import post_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes import views as recovery_code_views
from allauth.mfa.totp import views as totp_views
from django.urls import reverse


class ActivateTOTPView(totp_views.ActivateTOTPView):
    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "next_url": get_next_redirect_url(self.request)}

    def form_valid(self, form):
        response = super().form_valid(form)
        totp = Authenticator.objects.get(user=self.request.user, type=Authenticator.Type.TOTP)
        # The code just typed came from the new authenticator: this session has
        # passed the second factor as a later sign-in would, so privileged
        # pages and the recovery codes open without asking again.
        post_authentication(self.request, totp, reauthenticated=True)
        return response

    def get_success_url(self):
        url = super().get_success_url()
        next_url = get_next_redirect_url(self.request)
        return add_query_params(url, {"next": next_url}) if next_url else url


class ViewRecoveryCodesView(recovery_code_views.ViewRecoveryCodesView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["continue_url"] = get_next_redirect_url(self.request) or reverse("mfa_index")
        return context


activate_totp = ActivateTOTPView.as_view()
view_recovery_codes = ViewRecoveryCodesView.as_view()
