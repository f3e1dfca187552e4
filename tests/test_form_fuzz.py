"""Hypothesis over every form, through its view: any input is accepted, or refused
with a message, never a 500 and never half-written.

"Half-written" is checked after every request: each audited row has exactly
its event on the chain, and the chain verifies. The decision form has its
own fuzz test in tests/test_decision_input.py.
"""

import collections

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent import audit, services
from consent.explanation_text import shipped_version
from consent.models import (
    Acknowledgement,
    AuditEvent,
    Complaint,
    ComplaintMessage,
    Decision,
    ExplanationVersion,
    Notice,
)
from tests.conftest import sign_in_with_mfa

pytestmark = pytest.mark.slow

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TRIED = collections.Counter()

# Each audited row and the event that records it.
RECORDED_BY = [
    (Acknowledgement, ["explanation.acknowledged"]),
    (Decision, ["decision.recorded"]),
    (Notice, ["notice.published"]),
    (ExplanationVersion, ["explanation.published"]),
    (Complaint, ["complaint.filed"]),
    (ComplaintMessage, ["complaint.message_added", "complaint.note_added"]),
]


def text(max_size=300):
    return st.text(max_size=max_size)


def around(limit, char):
    """Texts just under, at and over a length limit."""
    return st.integers(limit - 10, limit + 10).map(lambda n: char * n)


def one_of_or_text(*values):
    return st.one_of(st.sampled_from(values), text(40))


def post(client, path, data, form):
    """Post, then check the answer and that every audited row has its event."""
    TRIED[form] += 1
    events = AuditEvent.objects.count()
    response = client.post(path, data)
    assert response.status_code < 500, (path, data)
    if response.status_code == 400:
        html = response.content.decode()
        # A refusal names the problem (or, for a NUL byte, is refused at the door).
        assert "field__error" in html or "notice--error" in html or html == "NUL", html[-2000:]
        assert AuditEvent.objects.count() == events, "a refused form wrote to the chain"
    for model, kinds in RECORDED_BY:
        assert model.objects.count() == AuditEvent.objects.filter(kind__in=kinds).count(), model
    assert audit.verify_database().ok
    return response


@pytest.fixture(scope="module", autouse=True)
def report_inputs_tried():
    yield
    print(f"\nform fuzz: {sum(TRIED.values())} inputs tried: {dict(TRIED)}")


@FUZZ
@given(version=st.one_of(st.integers(-5, 5), text(20)), understood=st.one_of(st.none(), text(10)))
def test_acknowledgement(alice_client, version, understood):
    data = {"version": version} | ({"understood": understood} if understood is not None else {})
    post(alice_client, "/explanation/acknowledge/", data, "acknowledge")


COMPLAINT = st.fixed_dictionaries(
    {
        "what": one_of_or_text("told_compulsory", "pressured", "other"),
        "occurred_on": st.one_of(st.dates().map(str), text(20), st.just("")),
        "office": one_of_or_text("", "200"),
        "involved_role": one_of_or_text("head_of_unit", "hr", "colleague", "other"),
        "details": st.one_of(text(), around(5000, "あ")),
        "identity": one_of_or_text("named", "anonymous"),
        "share_pseudonym": one_of_or_text("", "on"),
    }
)


@FUZZ
@given(data=COMPLAINT, signed_in=st.booleans())
def test_complaint(alice, data, signed_in):
    client = Client()
    if signed_in:
        client.force_login(alice.user)
    post(client, "/complaints/new/", data, "complaint")


@FUZZ
@given(body=st.one_of(text(), around(5000, "い")))
def test_messages_from_the_reporter_and_the_union(alice_client, alice, union, body):
    complaint = (
        Complaint.objects.filter(reporter=alice).first()
        or services.file_complaint(
            user=alice.user, anonymous=False, what="other", involved_role="other", details="x"
        )[0]
    )
    post(alice_client, f"/complaints/{complaint.number}/reply/", {"body": body}, "reporter message")
    union_client = sign_in_with_mfa(Client(), union.user)
    data = {"body": body, "internal": "1"}
    post(union_client, f"/union/complaints/{complaint.number}/message/", data, "union message")


@settings(FUZZ, max_examples=15)
@given(code=st.one_of(text(40), st.text(alphabet="0123456789 ", min_size=16, max_size=24)))
def test_receipt_code(db, code):
    post(Client(), "/complaints/follow-up/", {"code": code}, "receipt code")


NOTICE = st.fixed_dictionaries(
    {
        "title": st.one_of(text(), around(200, "題")),
        "body": st.one_of(text(), around(10000, "本")),
        "offices": st.lists(one_of_or_text("200", "999"), max_size=3),
        "accept_flagged": one_of_or_text("", "on"),
        "action": one_of_or_text("preview", "publish"),
    }
)


@FUZZ
@given(data=NOTICE)
def test_notice(hr_client, data):
    post(hr_client, "/hr/notices/", data, "notice")


SHIPPED = shipped_version()


@FUZZ
@given(
    field=st.sampled_from(sorted(SHIPPED)),
    value=st.one_of(text(), around(20_000, "説")),
    keep=st.booleans(),
    action=one_of_or_text("preview", "publish"),
)
def test_explanation_version(hr_client, field, value, keep, action):
    # Keeping the shipped text and appending keeps the required statements, so some inputs publish.
    fields = {**SHIPPED, field: SHIPPED[field] + value if keep else value, "action": action}
    post(hr_client, "/hr/explanation/", fields, "explanation")


@FUZZ
@given(
    content=st.one_of(st.binary(max_size=500), text(500).map(str.encode)),
    encoding=one_of_or_text("", "utf-8", "cp932"),
)
def test_roster_upload_and_confirm(hr_client, content, encoding):
    data = {"file": SimpleUploadedFile("roster.csv", content), "encoding": encoding}
    response = post(hr_client, "/hr/roster/", data, "roster")
    if response.status_code == 200:
        post(
            hr_client, "/hr/roster/confirm/", {"sha256": response.context["parsed"].sha256}, "roster confirm"
        )


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), text(300).map(str.encode)))
def test_checkpoint_file(union, content):
    client = sign_in_with_mfa(Client(), union.user)
    data = {"file": SimpleUploadedFile("checkpoints.txt", content)}
    post(client, "/union/audit/verify-checkpoints/", data, "checkpoint file")
