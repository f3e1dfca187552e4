"""What an employee keeps: the receipt of one decision (page, JSON and JSON-LD alike)
and the openings of their own events.

The chain's body names the employee only through a commitment; the receipt
holds the body (to recompute the leaf) and the opening (salt and secret), so
the employee can prove to anyone that the event is theirs and what it says.
"""

import json

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent.audit import rfc3339
from consent.models import AuditEvent, Choice, EventOpening

# ISO/IEC TS 27560 through W3C DPV: the DPV guide's statuses for our three choices.
DPV_STATUS = {
    Choice.OPT_IN: "dpv:ConsentGiven",
    Choice.OPT_OUT: "dpv:ConsentRefused",
    Choice.UNDECIDED: "dpv:ConsentRequestDeferred",
}


CHANNELS = {"web": gettext_lazy("the web page"), "demo-seed": gettext_lazy("demonstration data")}
SIGN_IN_METHODS = {
    "password": gettext_lazy("password"),
    "totp": gettext_lazy("authenticator app code"),
    "recovery_codes": gettext_lazy("recovery code"),
    "webauthn": gettext_lazy("security key"),
    "code": gettext_lazy("sign-in code by mail"),
    "session": gettext_lazy("an earlier sign-in"),
    "demo": gettext_lazy("demonstration data"),
}


def recorded_through(decision):
    """How the decision reached the ledger, in the reader's language ("web", "password+totp")."""
    methods = [str(SIGN_IN_METHODS.get(m, m)) for m in decision.sign_in_method.split("+") if m]
    return _("%(channel)s (%(methods)s)") % {
        "channel": CHANNELS.get(decision.channel, decision.channel),
        "methods": " + ".join(methods),
    }


def opening_data(request, opening, event):
    """An event of the employee's and what opens its commitment."""
    return {
        "seq": event.seq,
        "log_index": event.seq - 1,
        "kind": event.kind,
        "body": event.body,
        "leaf_hash": event.leaf_hash,
        "entry_hash": event.entry_hash,
        "commitment": event.subject,
        "opening": {"seq": event.seq, "salt": opening.salt, "secret": json.loads(opening.secret)},
        "proof_url": request.build_absolute_uri(reverse("event_proof", args=[event.seq])),
    }


def receipt_data(request, decision):
    version = decision.explanation_version
    event = AuditEvent.objects.get(seq=decision.audit_seq)
    opening = EventOpening.objects.get(seq=decision.audit_seq)
    audit = opening_data(request, opening, event)
    audit["proof_url"] = request.build_absolute_uri(reverse("receipt_tlog_proof", args=[decision.receipt_id]))
    return {
        # Where the standalone verifier (--opening) looks for it.
        "opening": audit.pop("opening"),
        "receipt_id": decision.receipt_id,
        "kind": "consent-ledger/decision-receipt/v2",
        "pseudonym": decision.employee.pseudonym,
        "choice": decision.choice,
        "choice_label": decision.get_choice_display(),
        "previous_choice": decision.previous_choice or None,
        "recorded_at": rfc3339(decision.created_at),
        "explanation": {"version": version.number, "content_hash": version.content_hash},
        "audit": audit,
        "channel": decision.channel,
        "sign_in_method": decision.sign_in_method,
        "how_to_withdraw": _(
            "Sign in and open %(url)s at any time to change or withdraw this decision. "
            "It takes the same steps as deciding."
        )
        % {"url": request.build_absolute_uri(reverse("decision"))},
        "how_to_verify": _(
            "The event with sequence number %(seq)d in the union's copy of the log must have the "
            "entry hash %(hash)s and this body. Its subject is a commitment: SHA-256 of the salt "
            "followed by the secret, both on this receipt. No page shows them to anyone but you "
            "(the server keeps them in a private table), so showing this receipt proves the event "
            "is yours and what you chose, and the union cannot tell without it unless you let it see "
            "your decisions on a complaint with your name. The inclusion proof shows the event is in "
            "the log the union cosigns."
        )
        % {"seq": decision.audit_seq, "hash": decision.entry_hash},
    }


def consent_record(request, decision, data):
    """The decision as an ISO/IEC TS 27560 consent record in the W3C DPV profile (JSON-LD)."""
    status = "dpv:ConsentWithdrawn" if decision.withdraws_consent else DPV_STATUS[decision.choice]
    version = decision.explanation_version
    url = request.build_absolute_uri(reverse("receipt_jsonld", args=[decision.receipt_id]))
    return {
        "@context": {
            "dpv": "https://w3id.org/dpv#",
            "dct": "http://purl.org/dc/terms/",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            # The log's own terms (an extension of the record, as the DPV guide allows).
            "ledger": "urn:consent-ledger:",
        },
        "@id": url,
        "@type": "dpv:ConsentRecord",
        "dct:identifier": decision.receipt_id,
        "dct:conformsTo": "https://w3id.org/dpv/schema/iso-27560#record",
        "dct:created": {"@value": rfc3339(decision.created_at), "@type": "xsd:dateTime"},
        "dpv:hasDataSubject": {"@type": "dpv:DataSubject", "dct:identifier": decision.employee.pseudonym},
        "dpv:hasConsentStatus": {"@id": status},
        "dpv:hasPurpose": {
            "@type": "dpv:Purpose",
            "dct:description": "Combining the staff ID with the My Number card (voluntary)",
        },
        "dpv:hasNotice": {
            "@type": "dpv:ConsentNotice",
            "@id": request.build_absolute_uri(reverse("explanation")) + f"#v{version.number}",
            "dct:hasVersion": str(version.number),
            "ledger:contentHash": version.content_hash,
        },
        "ledger:log": {
            "ledger:logIndex": data["audit"]["log_index"],
            "ledger:entryHash": data["audit"]["entry_hash"],
            "ledger:body": data["audit"]["body"],
            "ledger:commitment": data["audit"]["commitment"],
            "ledger:opening": data["opening"],
            "ledger:inclusionProof": {"@id": data["audit"]["proof_url"]},
        },
    }
