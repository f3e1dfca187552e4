"""The administrator's screens: offices, people and roles are editable;
decisions, acknowledgements, explanations and audit events are read-only
everywhere, because only the employee's own session and the services write them.
"""

from django.contrib import admin

from consent.models import (
    Acknowledgement,
    AuditEvent,
    Decision,
    Employee,
    ExplanationVersion,
    Office,
    RoleGrant,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent"]
    search_fields = ["code", "name"]


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ["employee_number", "display_name", "office", "is_active"]
    list_filter = ["is_active", "office"]
    search_fields = ["employee_number", "display_name"]
    readonly_fields = ["pseudonym"]
    raw_id_fields = ["user"]

    def has_delete_permission(self, request, obj=None):
        # Leavers are deactivated; their history must stay.
        return False


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "role"]
    list_filter = ["role"]
    raw_id_fields = ["user"]


@admin.register(ExplanationVersion)
class ExplanationVersionAdmin(ReadOnlyAdmin):
    list_display = ["number", "title_ja", "published_at", "content_hash"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["audit_seq", "employee", "choice", "created_at", "channel"]
    list_filter = ["choice", "channel"]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ["audit_seq", "employee", "version", "created_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "kind", "subject", "occurred_at", "entry_hash"]
    list_filter = ["kind"]
