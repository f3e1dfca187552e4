"""Issue #10's employee pages and layout: what the employee is shown back, receipt
numbers that survive a phone call, the steps, the grouped menu, the roster count
and the national rate kept off the chart."""

import datetime
import re

from django.urls import reverse
from django.utils import timezone

from consent import figures
from consent.models import RECEIPT_ALPHABET, Choice, new_receipt_id, normalise_receipt_id
from tests.conftest import acknowledge, decide, sign_in_with_mfa
from tests.test_roster_import import HEADER, ROSTER, confirm, upload

RECEIPT_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$")


def test_a_new_receipt_number_is_five_groups_of_unambiguous_characters():
    ids = {new_receipt_id() for _ in range(200)}
    assert len(ids) == 200
    for receipt_id in ids:
        assert RECEIPT_ID.match(receipt_id), receipt_id
        assert not set(receipt_id) & set("ILOU")
    assert len(RECEIPT_ALPHABET) == 32 and not set(RECEIPT_ALPHABET) & set("ILOU")


def test_a_receipt_number_read_back_in_another_form_is_the_same_number():
    assert normalise_receipt_id("7k3m qx9p 2d4f h8tb w6rn") == "7K3M-QX9P-2D4F-H8TB-W6RN"
    assert normalise_receipt_id("OIL0-0000-0000-0000-0000") == "0110-0000-0000-0000-0000"
    # Earlier receipt numbers (URL-safe base64) are looked up as they are.
    assert normalise_receipt_id("AUo_6zbm8AiDxMGDRsNtbHRp") == "AUo_6zbm8AiDxMGDRsNtbHRp"
    assert normalise_receipt_id("too-short") == "too-short"


def test_the_receipt_opens_from_the_number_as_typed_but_only_for_its_owner(alice_client, alice, bob, client):
    acknowledge(alice)
    decision = decide(alice, Choice.OPT_OUT)
    assert RECEIPT_ID.match(decision.receipt_id)
    typed = decision.receipt_id.replace("-", "").lower().replace("0", "o").replace("1", "l")
    for receipt_id in (decision.receipt_id, typed):
        response = alice_client.get(reverse("receipt", args=[receipt_id]))
        assert response.status_code == 200
        assert decision.receipt_id in response.content.decode()
        assert alice_client.get(reverse("receipt_json", args=[receipt_id])).status_code == 200
    client.force_login(bob.user)
    for receipt_id in (decision.receipt_id, typed):
        assert client.get(reverse("receipt", args=[receipt_id])).status_code == 404


def test_the_comment_is_shown_back_to_its_author_alone(alice_client, alice, bob, client):
    acknowledge(alice)
    decision = decide(alice, Choice.OPT_IN, comment="説明会の後で決めました")
    receipt = alice_client.get(reverse("receipt", args=[decision.receipt_id])).content.decode()
    assert "あなたのコメント（あなただけが見られます）" in receipt
    assert "説明会の後で決めました" in receipt
    assert "説明会の後で決めました" in alice_client.get(reverse("history")).content.decode()
    client.force_login(bob.user)
    assert "説明会の後で決めました" not in client.get(reverse("history")).content.decode()


def test_a_change_away_from_opt_in_reads_as_a_withdrawal(alice_client, alice):
    acknowledge(alice)
    first = decide(alice, Choice.UNDECIDED)
    decide(alice, Choice.OPT_IN)
    withdrawal = decide(alice, Choice.OPT_OUT)
    receipt = alice_client.get(reverse("receipt", args=[withdrawal.receipt_id])).content.decode()
    assert "撤回：一体化しない" in receipt
    first_receipt = alice_client.get(reverse("receipt", args=[first.receipt_id])).content.decode()
    assert "撤回：" not in first_receipt
    rows = re.findall(r"<tr>.*?</tr>", alice_client.get(reverse("history")).content.decode(), re.S)
    marked = [row for row in rows if "撤回：" in row]
    assert len(marked) == 1 and "<strong>撤回：一体化しない</strong>" in marked[0]


def test_the_receipt_says_in_japanese_how_the_decision_came_in(alice_client, alice):
    acknowledge(alice)
    decision = decide(alice, Choice.OPT_OUT)
    html = alice_client.get(reverse("receipt", args=[decision.receipt_id])).content.decode()
    assert "ウェブ画面（パスワード）" in html
    assert "web (password)" not in html


def test_after_opting_in_the_receipt_says_what_happens_next(alice_client, alice):
    acknowledge(alice)
    opted_in = decide(alice, Choice.OPT_IN)
    html = alice_client.get(reverse("receipt", args=[opted_in.receipt_id])).content.decode()
    assert "これからの流れ" in html and "人事課から連絡があります" in html and "いつでも" in html
    opted_out = decide(alice, Choice.OPT_OUT)
    html = alice_client.get(reverse("receipt", args=[opted_out.receipt_id])).content.decode()
    assert "これからの流れ" not in html


def test_the_receipt_offers_a_print_button_without_an_inline_script(alice_client, alice):
    acknowledge(alice)
    decision = decide(alice, Choice.OPT_OUT)
    html = alice_client.get(reverse("receipt", args=[decision.receipt_id])).content.decode()
    assert re.search(r'<button class="[^"]*print-button[^"]*" type="button" hidden>', html)
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
    assert scripts and all(body.strip() == "" for body in scripts)  # the CSP refuses inline code
    assert "印刷機能" in html  # the way to print without JavaScript


def current_step(html):
    return re.search(r'<li aria-current="step"><span class="progress-steps__number">(\d)</span>', html).group(
        1
    )


def test_the_steps_show_where_the_employee_is(alice_client, alice):
    assert current_step(alice_client.get(reverse("explanation")).content.decode()) == "1"
    acknowledge(alice)
    html = alice_client.get(reverse("decision")).content.decode()
    assert current_step(html) == "3"
    assert html.count('class="is-done"') == 2
    decision = decide(alice, Choice.OPT_OUT)
    html = alice_client.get(reverse("receipt", args=[decision.receipt_id])).content.decode()
    assert current_step(html) == "4"
    assert all(label in html for label in ("説明", "確認", "選択", "受付票"))


def wide_menu(html):
    return re.search(r'<nav class="site-nav site-nav--wide".*?</nav>', html, re.S).group(0)


def test_the_menu_is_grouped_by_role_and_collapses_without_javascript(alice_client, client, hr):
    html = alice_client.get(reverse("home")).content.decode()
    assert "あなたの選択（職員）" in wide_menu(html)
    assert "業務（人事課・労働組合）" not in html
    assert re.search(r'<details class="site-nav site-nav--narrow">\s*<summary[^>]*>メニュー</summary>', html)
    html = sign_in_with_mfa(client, hr.user).get(reverse("hr_dashboard")).content.decode()
    work = wide_menu(html).split("業務（人事課・労働組合）")[1]
    assert f'href="{reverse("hr_dashboard")}" aria-current="page"' in work


def test_the_roster_preview_counts_every_data_line_of_the_file(hr_client):
    text = "\n".join(
        [
            HEADER,
            "R0001,山田 太郎,taro@example.jp,100,中部地方整備局,,1",
            "R0002,鈴木 花子,not-an-address,200,名古屋国道事務所,100,1",
            "R0003,佐藤 次郎,jiro@example.jp,200,名古屋国道事務所,100,1",
        ]
    )
    html = upload(hr_client, text).content.decode()
    assert "データ3行" in html


def test_the_chart_draws_no_national_line_and_the_page_gives_it_as_context(hr_client, alice):
    figures.publish_snapshot(now=timezone.now() - datetime.timedelta(days=8))
    html = hr_client.get(reverse("hr_dashboard")).content.decode()
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "stroke-dasharray" not in svg and "9.0" not in svg
    assert "chart__reference" not in html
    # Not beside the opt-in rate either: only in the reference section, said to be no target.
    before, reference = html.split('id="reference-heading"')
    assert "9.0%" not in before
    for words in ("参考：2017年5月の全国交付率", "9.0%", "目標ではありません"):
        assert words in reference


def test_the_roster_preview_names_changed_columns_in_japanese(hr_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(hr_client, ROSTER)
        confirm(hr_client)
    moved = ROSTER.replace(
        "R0002,鈴木 花子,hanako@example.jp,200,名古屋国道事務所,100,1",
        "R0002,鈴木 華子,hanako@example.jp,100,中部地方整備局,,1",
    )
    html = upload(hr_client, moved).content.decode()
    assert "R0002 鈴木 華子: 氏名、事務所" in html
    assert "office" not in html.split("<main", 1)[1]


def test_the_japanese_receipt_names_the_subject_field_in_japanese(alice_client, alice):
    """The paragraph on checking the receipt left the body's "subject" in English; it now
    glosses it, as it does the body, so the field can still be found in the raw record."""
    acknowledge(alice)
    decision = decide(alice, Choice.OPT_IN)
    html = alice_client.get(reverse("receipt", args=[decision.receipt_id])).content.decode()
    words = re.sub(r"<code[^>]*>.*?</code>", "", html.split("<main")[1], flags=re.S)
    assert "対象（subject）はコミットメント" in words and "その subject は" not in words
