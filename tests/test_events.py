"""The one registry of event kinds (consent/events.py) and the union's readable audit page."""

import ast
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from consent import audit, chain, events, explanation_text, figures, log, services
from consent.models import (
    AuditEvent,
    Choice,
    ComplaintMessage,
    ExplanationVersion,
    RoleGrant,
    SwitchoverCase,
)
from consent.roster import parse_roster
from consent.views.union import HR_ACTION_KINDS
from tests.conftest import acknowledge, decide, sign_in_with_mfa

ROOT = Path(__file__).resolve().parents[1]
ROSTER = (
    "職員番号,氏名,メールアドレス,事務所コード,事務所名,上位事務所コード,在職\n"
    "R0001,山田 太郎,taro@example.jp,100,中部地方整備局,,1\n"
    "R0002,鈴木 花子,hanako@example.jp,200,名古屋国道事務所,100,1\n"
    # Everyone already on file stays, so no account is deactivated.
    "E0001,alice,alice@example.jp,200,名古屋国道事務所,100,1\n"
    "E0002,bob,bob@example.jp,200,名古屋国道事務所,100,1\n"
    "E0100,hana,hana@example.jp,200,名古屋国道事務所,100,1\n"
    "E0200,ichiro,ichiro@example.jp,200,名古屋国道事務所,100,1\n"
)
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


def _kinds_in(tree):
    """The kinds each ``audit.append(...)`` and ``record_access(kind=...)`` call names.

    A call passing a variable takes the strings its function assigns to it; a
    parameter (record_access's own ``kind``) is covered by its callers."""
    found = set()
    for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.Module)]:
        assigned = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    pairs = (
                        zip(target.elts, node.value.elts, strict=False)
                        if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                        else [(target, node.value)]
                    )
                    for name, value in pairs:
                        if isinstance(name, ast.Name) and isinstance(value, ast.Constant):
                            assigned.setdefault(name.id, set()).add(value.value)
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if (
                name == "append"
                and isinstance(func, ast.Attribute)
                and getattr(func.value, "id", "") == "audit"
            ):
                argument = node.args[0]
            elif name == "record_access":
                argument = next(k.value for k in node.keywords if k.arg == "kind")
            else:
                continue
            if isinstance(argument, ast.Name):
                found |= assigned.get(argument.id, set())
            found |= {c.value for c in ast.walk(argument) if isinstance(c, ast.Constant)}
    return found


def test_every_kind_the_code_appends_is_registered_and_every_registered_kind_is_appended():
    found = set()
    for path in (ROOT / "consent").rglob("*.py"):
        found |= _kinds_in(ast.parse(path.read_text(encoding="utf-8")))
    assert len(found) >= 25
    assert found == set(events.KINDS), (found - set(events.KINDS), set(events.KINDS) - found)


def test_every_kind_has_a_japanese_label():
    from django.utils import translation

    with translation.override("ja"):
        for name, kind in events.KINDS.items():
            assert not str(kind.label).isascii(), name


def test_append_refuses_an_unregistered_kind(db):
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match="not in consent/events.py"), transaction.atomic():
        audit.append("decision.erased", actor=audit.SYSTEM)
    assert AuditEvent.objects.count() == before


def test_append_refuses_an_undeclared_payload_key(db, alice):
    """A name or an office slipped into a public payload is refused before it reaches the chain."""
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match="declares no payload key office"), transaction.atomic():
        audit.append(
            "complaint.filed", actor=audit.COMPLAINANT, payload={"complaint": "123456", "office": "200"}
        )
    with pytest.raises(ValueError, match="payload key choice"), transaction.atomic():
        audit.append(
            "decision.recorded", actor=audit.EMPLOYEE, opening_for=alice, payload={"choice": "opt_in"}
        )
    assert AuditEvent.objects.count() == before


def test_append_refuses_an_opening_on_a_kind_the_employee_does_not_see(db, alice):
    with pytest.raises(ValueError, match="carries no opening"), transaction.atomic():
        audit.append("roster.imported", actor=audit.SYSTEM, opening_for=alice)


@pytest.fixture
def union_client(client, union):
    return sign_in_with_mfa(client, union.user)


@pytest.fixture
def every_kind(union_client, union, hr, alice, bob, office):
    """One event of every registered kind, each made the way the product makes it."""
    hr_client = sign_in_with_mfa(Client(), hr.user)
    admin = get_user_model().objects.create_superuser("root", "root@example.jp", "x-long-password")
    services.record_sign_in(user=alice.user, methods="password+totp")
    services.record_sign_in(user=admin, methods="password+totp")
    services.record_explanation_viewed(user=alice.user, version=ExplanationVersion.current())
    acknowledge(alice)
    decide(alice, Choice.OPT_IN)
    services.publish_explanation(
        actor=audit.staff_identity(hr.user), number=2, fields=explanation_text.shipped_version(1)
    )
    case = SwitchoverCase.objects.get(employee=alice)
    services.record_switchover_step(user=hr.user, case=case, step=case.next_step())
    hr_client.get("/hr/queue/")
    services.publish_notice(user=hr.user, title="至急", body="必ず提出すること", accept_flagged=True)
    services.import_roster(user=hr.user, parsed=parse_roster(ROSTER.encode()), invite=False)
    figures.publish_snapshot()
    hr_client.get("/hr/figures.csv")
    grant = services.grant_role(actor=admin, user=bob.user, role=RoleGrant.HR)
    services.revoke_role(actor=admin, grant=grant)
    services.set_account_access(actor=admin, user=bob.user, is_staff=True)
    services.update_employee(actor=admin, employee=bob, display_name="ボブ", office=office, is_active=True)
    created = services.save_office(actor=admin, code="300", name="岐阜国道事務所", parent=office)
    services.save_office(actor=admin, code="300", name="岐阜国道事務所（新）", parent=office, office=created)
    complaint, _code = services.file_complaint(
        user=None, anonymous=True, what="pressured", involved_role="head_of_unit", details="圧力"
    )
    services.add_complaint_message(
        complaint=complaint, author=ComplaintMessage.UNION, body="伺います", user=union.user
    )
    services.add_complaint_message(
        complaint=complaint, author=ComplaintMessage.UNION, body="メモ", internal=True, user=union.user
    )
    services.set_complaint_status(complaint=complaint, status="investigating", user=union.user)
    services.save_checkpoint(user=union.user)
    union_client.get("/union/audit/export.zip")
    pair = chain.generate_key("union.example.jp/witness", chain.SIG_COSIGNATURE_V1)
    log.register_witness_key(user=union.user, vkey=pair[1])
    checkpoint = log.publish_checkpoint()
    text, _signatures = chain.split_note(checkpoint.note)
    log.add_cosignature(user=union.user, size=checkpoint.size, line=chain.cosignature_line(text, pair[0], 1))
    services.record_sign_in(user=alice.user, methods="password")  # grows the tree past the cosigned size
    latest = log.publish_checkpoint()
    union_client.get(f"/union/witness/checkpoint-{latest.size}.txt")
    union_client.get(f"/union/witness/consistency-{latest.size}.txt")
    return union_client


def test_the_services_append_every_registered_kind_and_nothing_else(every_kind):
    stored = set(AuditEvent.objects.values_list("kind", flat=True))
    assert stored == set(events.KINDS)


def _page(client, query="", language="ja"):
    response = client.get(f"/union/audit/{query}", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response


def test_the_audit_page_names_every_kind_in_japanese_with_readable_details(every_kind):
    response = _page(every_kind, "?kind=")
    page = response.content.decode()
    main_table = re.sub(r"<details>.*?</details>", "", page.split("<tbody>")[1], flags=re.S)
    # Fifty rows a page: look at every kind through its own filter.
    for name, kind in events.KINDS.items():
        listing = _page(every_kind, f"?kind={name}").content.decode()
        table = re.sub(r"<details>.*?</details>", "", listing.split("<tbody>")[1], flags=re.S)
        assert str(kind.label) not in ("", name)
        assert f"<strong>{_ja(kind.label)}</strong>" in table, name
        assert name not in table, name
        assert not HEX64.search(table), (name, table)
    assert "本人だけが開ける記録" in main_table
    filtered = {
        "explanation.acknowledged": "第1版",
        "role.granted": "人事課",
        "complaint.status_changed": "調査中",
        "roster.imported": "6行: 新規 2",
        "switchover.step_recorded": "カード受領",
        "complaint.filed": "（匿名）",
        "complaint.message_added": "（労働組合から）",
        "account.access_changed": "管理画面に入れる: はい",
        "employee.updated": "変更した項目: 名前",
        "office.updated": "（上位: 200）",
        "notice.published": "強制と受け取られうる語: 必ず",
        "account.signed_in": "方法: パスワード、認証アプリ",
    }
    for name, words in filtered.items():
        assert words in _page(every_kind, f"?kind={name}").content.decode(), name


def _ja(label):
    from django.utils import translation

    with translation.override("ja"):
        return str(label)


def test_the_raw_body_is_behind_a_disclosure(every_kind):
    page = _page(every_kind).content.decode()
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    for event in _page(every_kind).context["page"].object_list:
        body = event.body.replace('"', "&quot;")
        assert body in rows
        disclosure = rows.split(f'<td class="num">{event.seq}</td>')[1].split("</tr>")[0]
        assert re.search(r"<details><summary>[^<]+</summary><code[^>]*>" + re.escape(body), disclosure)


def test_the_kind_filter_offers_every_kind_by_its_label(every_kind):
    page = _page(every_kind).content.decode()
    select = page.split('id="f-kind"')[1].split("</select>")[0]
    for name, kind in events.KINDS.items():
        assert f'<option value="{name}">{_ja(kind.label)}</option>' in select


def test_fifty_rows_a_page_and_the_filter_is_kept_on_page_two(union_client, alice):
    for _ in range(60):
        services.record_sign_in(user=alice.user, methods="password")
    signed_in = list(AuditEvent.objects.filter(kind="account.signed_in").order_by("-seq"))
    first = _page(union_client, "?kind=account.signed_in")
    assert [row["event"] for row in first.context["rows"]] == signed_in[:50]
    # Keyset pagination: the link names the last seq shown, never a page number to count to.
    assert _pager(first) == [f"?kind=account.signed_in&amp;before={signed_in[49].seq}"]
    second = _page(union_client, f"?kind=account.signed_in&before={signed_in[49].seq}")
    assert [row["event"] for row in second.context["rows"]] == signed_in[50:]
    assert 'value="account.signed_in" selected' in second.content.decode()
    assert _pager(second) == [f"?kind=account.signed_in&amp;after={signed_in[50].seq}"]
    back = _page(union_client, f"?kind=account.signed_in&after={signed_in[50].seq}")
    assert [row["event"] for row in back.context["rows"]] == signed_in[:50]
    assert _pager(back) == [f"?kind=account.signed_in&amp;before={signed_in[49].seq}"]


def _pager(response):
    """The links of the page's pagination."""
    html = response.content.decode()
    nav = html.split('class="pagination"')[1].split("</nav>")[0] if 'class="pagination"' in html else ""
    return re.findall(r'href="([^"]+)"', nav)


def test_hr_actions_of_several_kinds_are_merged_newest_first_across_pages(union_client, hr, alice):
    for number in range(30):
        services.record_access(
            user=hr.user, kind="switchover.queue_opened", payload={"page": 1, "searched": False}
        )
        services.record_access(user=hr.user, kind="hr.figures_exported", payload={"snapshot": number})
        services.record_sign_in(user=alice.user, methods="password")
    wanted = list(AuditEvent.objects.filter(kind__in=HR_ACTION_KINDS).order_by("-seq"))
    first = _page(union_client, "?hr=1").context["page"]
    second = _page(union_client, f"?hr=1&before={first.older}").context["page"]
    assert first.object_list + second.object_list == wanted
    assert second.older is None


def test_the_date_filter_takes_whole_local_days(union_client, alice):
    import datetime

    from django.utils import timezone

    event = services.record_sign_in(user=alice.user, methods="password")
    today = timezone.localdate(event.occurred_at)
    shown = _page(union_client, f"?start={today}&end={today}").context["page"].object_list
    assert event in shown
    for day in (today - datetime.timedelta(days=1), today + datetime.timedelta(days=1)):
        assert _page(union_client, f"?start={day}&end={day}").context["page"].object_list == []


def test_a_malformed_page_link_shows_the_first_page(union_client, alice):
    services.record_sign_in(user=alice.user, methods="password")
    newest = AuditEvent.objects.order_by("-seq").first()
    for query in ("?before=abc", "?after=-3", "?before=0", "?page=9999"):
        assert _page(union_client, query).context["page"].object_list[0] == newest


def test_the_audit_page_reads_in_english_too(every_kind):
    page = _page(every_kind, "?kind=role.granted", language="en").content.decode()
    assert "<strong>Role granted</strong>" in page and "role holder" in page and "役割" not in page


def test_a_malformed_body_is_listed_not_a_server_error(union_client, alice):
    """A forged row the verification reports must still be shown on the page that reports it."""
    from tests.conftest import unguard

    acknowledge(alice)
    unguard("consent_auditevent")
    AuditEvent.objects.filter(seq=2).update(body="not json", kind="made.up")
    response = _page(union_client)
    assert not response.context["result"].ok
    assert "made.up" in response.content.decode()
    # The failure reads in Japanese; the verifier's English words sit behind a disclosure.
    html = response.content.decode()
    assert "書き換えられた可能性があります" in html
    assert f"<code>{response.context['result'].reason}</code>" in html.replace("&#x27;", "'")


def test_every_reason_the_verifier_gives_has_a_meaning_on_the_union_pages():
    """Each code chain.py documents ("What the verifier prints") and each verification.py
    raises is told in the page's language, not only by the generic sentence."""
    import re
    from pathlib import Path

    from consent import chain
    from consent.templatetags.consent_tags import _PROBLEMS

    section = chain.__doc__.split("What the verifier prints")[1].split("A file that is not")[0]
    documented = set(re.findall(r"``([a-z]+(?:-[a-z]+)*)``", section)) - {"OK", "FAILED"}
    source = (Path(chain.__file__).parent / "verification.py").read_text()
    raised = set(re.findall(r'Problem\(\s*[^,]+,\s*f?"([a-z]+(?:-[a-z]+)*):', source))
    assert documented and raised
    assert documented | raised <= _PROBLEMS.keys(), (documented | raised) - _PROBLEMS.keys()


def test_the_history_names_the_employees_events_from_the_registry(alice):
    from consent.history_rows import event_rows
    from consent.hot import history

    acknowledge(alice)
    decide(alice, Choice.OPT_IN)
    rows = event_rows(history(alice)[1][0:20]).split("</tr>")
    labels = [events.KINDS["explanation.acknowledged"].label, events.KINDS["decision.recorded"].label]
    assert [str(label) in row for row, label in zip(rows, labels, strict=False)] == [True, True]


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_audit_page_refuses_other_methods(union_client, method):
    assert getattr(union_client, method)("/union/audit/").status_code == 405


def test_the_audit_page_is_for_the_union_alone(client, alice, hr):
    response = client.get("/union/audit/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(alice.user)
    assert client.get("/union/audit/").status_code == 403
    assert sign_in_with_mfa(client, hr.user).get("/union/audit/").status_code == 403


def test_the_indicators_page_links_the_roster_imports_by_their_label(union_client):
    page = union_client.get("/union/indicators/").content.decode()
    assert '<a href="/union/audit/?kind=roster.imported">監査記録: 名簿を取り込んだ</a>' in page


def test_only_hr_actions_lists_what_hr_does(every_kind):
    page = _page(every_kind, "?hr=1")
    kinds = {row["event"].kind for row in page.context["rows"]}
    assert kinds == {
        "explanation.published",
        "notice.published",
        "roster.imported",
        "switchover.queue_opened",
        "switchover.step_recorded",
        "hr.figures_exported",
    }


def test_a_span_of_days_is_read_as_its_span_of_the_chain(union_client, alice):
    """A date filter reads the span's first and last seq through the occurred_at index, so
    the listing walks only those events, not every event after them (10M events: seconds)."""
    import datetime
    from unittest import mock

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    noon = timezone.now().replace(hour=3, minute=0, second=0, microsecond=0)  # 12:00 in Tokyo
    by_day = {}
    for days in (2, 1, 0):
        with mock.patch("django.utils.timezone.now", return_value=noon - datetime.timedelta(days=days)):
            by_day[days] = [services.record_sign_in(user=alice.user, methods="password") for _ in range(3)]
    day = timezone.localdate(by_day[1][0].occurred_at)
    with CaptureQueriesContext(connection) as queries:
        shown = _page(union_client, f"?start={day}&end={day}").context["page"].object_list
    assert shown == by_day[1][::-1]
    listing = [q["sql"] for q in queries if 'ORDER BY "consent_auditevent"."seq" DESC' in q["sql"]]
    assert listing and all(
        f'"seq" >= {by_day[1][0].seq}' in sql and f'"seq" <= {by_day[1][-1].seq}' in sql for sql in listing
    )
    # The span is read with a COUNT beside MIN and MAX: without it PostgreSQL walks seq backwards instead.
    span = [q["sql"] for q in queries if 'MIN("consent_auditevent"."seq")' in q["sql"]]
    assert len(span) == 1 and 'MAX("consent_auditevent"."seq")' in span[0] and "COUNT(" in span[0]
    empty = day - datetime.timedelta(days=30)
    assert _page(union_client, f"?start={empty}&end={empty}").context["page"].object_list == []


def test_a_date_at_the_ends_of_the_calendar_is_ignored_not_a_server_error(union_client, alice):
    """0001-01-01 in Tokyo is before the first UTC instant, and the day after 9999-12-31 does
    not exist: both were a 500 (OverflowError); now they read as a date not understood."""
    services.record_sign_in(user=alice.user, methods="password")
    for query in ("?start=0001-01-01", "?end=9999-12-31", "?start=0001-01-01&end=0001-01-01"):
        response = _page(union_client, query)
        assert response.status_code == 200, query
        assert "読み取れない日付があったため無視しました" in response.content.decode(), query
        assert response.context["page"].object_list, query
