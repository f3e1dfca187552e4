from django.contrib import admin
from django.urls import include, path

from consent.views import accounts, public

urlpatterns = [
    path("", include("consent.urls")),
    # Before allauth's own: accounts and their addresses come from the roster.
    path("accounts/signup/", public.signup_closed),
    path("accounts/email/", public.email_from_roster),
    # Set-up continues to where the person was going (consent/views/accounts.py).
    path("accounts/2fa/totp/activate/", accounts.activate_totp, name="mfa_activate_totp"),
    path("accounts/2fa/recovery-codes/", accounts.view_recovery_codes, name="mfa_view_recovery_codes"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

# Error pages in the site's layout that render without the database (consent/errors.py).
handler400 = "consent.errors.bad_request"
handler403 = "consent.errors.permission_denied"
handler404 = "consent.errors.page_not_found"
handler500 = "consent.errors.server_error"
