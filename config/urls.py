from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("consent.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

# Error pages in the site's layout that render without the database (consent/errors.py).
handler400 = "consent.errors.bad_request"
handler403 = "consent.errors.permission_denied"
handler404 = "consent.errors.page_not_found"
handler500 = "consent.errors.server_error"
