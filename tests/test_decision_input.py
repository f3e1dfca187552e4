"""Any input to the decision form is either recorded or refused with a message, never a 500."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.models import Decision
from consent.mynumber import contains_my_number
from tests.conftest import acknowledge

CHOICES = st.one_of(st.sampled_from(["opt_in", "opt_out", "undecided"]), st.text(max_size=20))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choice=CHOICES, comment=st.text(max_size=1100))
def test_any_decision_input_is_recorded_or_refused_cleanly(alice_client, alice, choice, comment):
    if not alice.acknowledgements.exists():
        acknowledge(alice)
    before = Decision.objects.count()
    alice.refresh_from_db()
    current = alice.current_choice
    response = alice_client.post("/decision/", {"choice": choice, "comment": comment})
    assert response.status_code in (302, 400)
    recorded = Decision.objects.count() - before
    valid = choice in ("opt_in", "opt_out", "undecided") and len(comment) <= 1000 and "\x00" not in comment
    if response.status_code == 400:
        assert recorded == 0
        assert "記録されていません" in response.content.decode()
    if recorded:
        assert valid and not contains_my_number(comment)
        latest = Decision.objects.filter(employee=alice).order_by("-audit_seq").first()
        assert latest.choice == choice and latest.comment == comment.strip()
    elif valid and not contains_my_number(comment) and response.status_code == 302:
        assert choice == current  # a repeat of the current choice records nothing
