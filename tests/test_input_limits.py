"""Texts have a length limit, refused with a message in the user's language; nothing is written."""

import pytest
from django.core.exceptions import ValidationError

from consent import services
from consent.explanation_text import shipped_version
from consent.models import AuditEvent, Complaint, ComplaintMessage, ExplanationVersion, Notice

HUGE = "長い文章。" * 40_000  # 200,000 characters


def test_a_200_kb_notice_is_refused_with_a_message(hr_client):
    events = AuditEvent.objects.count()
    response = hr_client.post("/hr/notices/", {"title": "お知らせ", "body": HUGE, "action": "publish"})
    assert response.status_code == 400
    assert "10000 文字以下" in response.content.decode()
    assert not Notice.objects.exists() and AuditEvent.objects.count() == events


@pytest.mark.parametrize("field", ["body_ja", "acknowledgement_en", "title_ja"])
def test_an_oversized_explanation_is_refused_with_a_message(hr_client, field):
    fields = shipped_version()
    fields[field] += HUGE
    response = hr_client.post("/hr/explanation/", {**fields, "action": "publish"})
    assert response.status_code == 400 and "文字以下" in response.content.decode()
    assert ExplanationVersion.objects.count() == 1


def test_the_services_refuse_oversized_texts_too(hr, alice):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="長すぎます"):
        services.publish_notice(user=hr.user, title="t", body=HUGE)
    fields = shipped_version()
    fields["body_en"] += HUGE
    with pytest.raises(ValidationError, match="長すぎます"):
        services.publish_explanation_version(user=hr.user, fields=fields)
    with pytest.raises(ValidationError, match="長すぎます"):
        services.file_complaint(
            user=alice.user, anonymous=False, what="other", involved_role="other", details=HUGE
        )
    complaint, _code = services.file_complaint(
        user=alice.user, anonymous=False, what="other", involved_role="other", details="x"
    )
    with pytest.raises(ValidationError, match="長すぎます"):
        services.add_complaint_message(complaint=complaint, author=ComplaintMessage.REPORTER, body=HUGE)
    assert not Notice.objects.exists() and ExplanationVersion.objects.count() == 1
    assert Complaint.objects.count() == 1 and not ComplaintMessage.objects.exists()
    assert AuditEvent.objects.count() == events + 1  # only the short complaint
