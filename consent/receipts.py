"""What an employee keeps: the receipt of one decision (page and JSON alike)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from consent.audit import rfc3339


def receipt_data(request, decision):
    version = decision.explanation_version
    return {
        "receipt_id": decision.receipt_id,
        "kind": "consent-ledger/decision-receipt/v1",
        "pseudonym": decision.employee.pseudonym,
        "choice": decision.choice,
        "choice_label": decision.get_choice_display(),
        "previous_choice": decision.previous_choice or None,
        "recorded_at": rfc3339(decision.created_at),
        "explanation": {"version": version.number, "content_hash": version.content_hash},
        "audit": {"seq": decision.audit_seq, "entry_hash": decision.entry_hash},
        "channel": decision.channel,
        "sign_in_method": decision.sign_in_method,
        "how_to_withdraw": _(
            "Sign in and open %(url)s at any time to change or withdraw this decision. "
            "It takes the same steps as deciding."
        )
        % {"url": request.build_absolute_uri(reverse("decision"))},
        "how_to_verify": _(
            "Ask the union for its copy of the audit chain. The event with sequence number "
            "%(seq)d must have the entry hash %(hash)s and carry your pseudonym and choice. "
            "If it does not, or is missing, tell the union."
        )
        % {"seq": decision.audit_seq, "hash": decision.entry_hash},
    }
