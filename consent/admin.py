"""The administrator's screens: offices, people, access flags and role grants.

Administrators run the deployment; they are not meant to learn anyone's
decision. So decisions, acknowledgements and the openings of the log's
commitments are not in the admin at all, pseudonyms are not shown, audit
events show no body or subject and are read-only, complaints and checkpoints
are absent, and nothing here can move an account to another person (email,
password, linked user). Every change the admin can make (access flags, a
person's name, office or active flag, offices, role grants) goes through a
service, so each one is on the audit chain in the same transaction; nothing
here deletes anything but a role grant.
"""

import json

from allauth.account.decorators import secure_admin_login
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from consent import audit, events, services
from consent.access import signed_in_with_mfa
from consent.models import AuditEvent, Employee, ExplanationVersion, Office, RoleGrant

# Sign-in goes through allauth (TOTP included), never the admin's own password form.
admin.site.login = secure_admin_login(admin.site.login)
_has_permission = admin.site.has_permission
admin.site.has_permission = lambda request: _has_permission(request) and signed_in_with_mfa(request)

for model in (EmailAddress, Authenticator, Group, get_user_model()):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(get_user_model())
class UserAdmin(admin.ModelAdmin):
    """Accounts are provisioned from the roster; here only access flags change."""

    list_display = ["username", "email", "is_active", "is_staff"]
    search_fields = ["username", "email"]
    fields = ["username", "email", "is_active", "is_staff", "is_superuser", "last_login", "date_joined"]
    readonly_fields = ["username", "email", "last_login", "date_joined"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        flags = {name: form.cleaned_data[name] for name in services.ACCESS_FLAGS}
        services.set_account_access(actor=request.user, user=obj, **flags)


class OfficeForm(forms.ModelForm):
    class Meta:
        model = Office
        fields = ["code", "name", "parent"]

    def clean(self):
        cleaned = super().clean()
        services.check_office_parent(self.instance if self.instance.pk else None, cleaned.get("parent"))
        return cleaned


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    form = OfficeForm
    list_display = ["code", "name", "parent"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None):
        # Notices, complaints and people keep pointing at offices.
        return False

    def get_readonly_fields(self, request, obj=None):
        # The roster names offices by code: a code changed here would make the
        # next import create the old office again and move everyone back.
        return ["code"] if obj else []

    def save_model(self, request, obj, form, change):
        saved = services.save_office(
            actor=request.user,
            office=obj if change else None,
            code=obj.code if change else form.cleaned_data["code"],
            name=form.cleaned_data["name"],
            parent=form.cleaned_data["parent"],
        )
        obj.pk = saved.pk


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ["employee_number", "display_name", "office", "is_active"]
    list_filter = ["is_active", "office"]
    search_fields = ["employee_number", "display_name"]
    fields = ["employee_number", "display_name", "office", "is_active", "user"]
    readonly_fields = ["employee_number", "user"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Leavers are deactivated; their history must stay.
        return False

    def save_model(self, request, obj, form, change):
        services.update_employee(
            actor=request.user,
            employee=obj,
            display_name=form.cleaned_data["display_name"],
            office=form.cleaned_data["office"],
            is_active=form.cleaned_data["is_active"],
        )


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "role"]
    list_filter = ["role"]
    raw_id_fields = ["user"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.grant_role(actor=request.user, user=obj.user, role=obj.role, grant=obj)

    def delete_model(self, request, obj):
        services.revoke_role(actor=request.user, grant=obj)

    def delete_queryset(self, request, queryset):
        for grant in queryset:
            services.revoke_role(actor=request.user, grant=grant)


@admin.register(ExplanationVersion)
class ExplanationVersionAdmin(ReadOnlyAdmin):
    list_display = ["number", "title_ja", "published_at", "content_hash"]


class KindFilter(admin.SimpleListFilter):
    """The kinds by their registered labels (consent/events.py), not their codes."""

    title = _("event")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return events.choices()

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Sequence, kind and time only; the actor only when it is a role holder or the system.

    Bodies and subjects stay out: a commitment in the admin next to a name
    is exactly what the log is built to prevent."""

    list_display = ["seq", "event", "occurred_at", "accountable_actor"]
    list_filter = [KindFilter]
    fields = ["seq", "event", "kind", "occurred_at", "accountable_actor"]
    readonly_fields = fields

    @admin.display(description=_("event"), ordering="kind")
    def event(self, obj):
        return events.label(obj.kind)

    @admin.display(description=_("actor"))
    def accountable_actor(self, obj):
        actor = json.loads(obj.body)["actor"] or ""
        return actor if actor == audit.SYSTEM or actor.startswith("staff:") else "—"
