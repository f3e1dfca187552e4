"""The compulsion word list: what it flags in notices, what it must leave alone,
and how a flagged notice reaches staff."""

from pathlib import Path

import pytest
from django.test import Client

from consent import services
from consent.wording import flagged_words, highlight

CONTENT = Path(__file__).resolve().parents[1] / "consent" / "content"

ORDERS = [
    ("全職員は期限までに必ずマイナンバーカードを提出すること。", ["必ず", "提出すること", "期限までに"]),
    ("申請書を持参すること", ["すること"]),
    ("6月30日までに提出のこと。", ["のこと"]),
    ("全員、申請しなければなりません。", ["しなければなりません"]),
    ("交付申請をしなければならない。", ["しなければならない"]),
    ("例外なく手続きしなさい。", ["例外なく", "しなさい"]),
    ("提出期限は厳守してください。", ["提出期限", "厳守"]),
    ("【至急】切替手続きについて", ["至急"]),
    ("職員は申請するものとする。", ["ものとする"]),
    ("締め切りは来週です。", ["締め切り"]),
    ("Return the form without fail by 30 June at the latest.", ["without fail", "at the latest"]),
    ("You must apply", ["must"]),
    # Saying "not compulsory" first does not hide an order that follows.
    ("強制ではありませんが、必ず提出すること。", ["必ず", "提出すること"]),
]

VOLUNTARY = [
    # The demo's clean notice and the tests' notices.
    "マイナンバーカードへの職員証機能の搭載を希望する方は、この台帳で選択してください。",
    "説明会を開きます。",
    "説明会のご案内",
    # Ordinary ways of saying it is voluntary, and neighbours of the orders above.
    "一体化は強制ではありません。義務でもなく、必須でもありません。",
    "政府も「強制はできない」と明言しています。",
    "希望する方は、いつでも申請することができます。",
    "人事課から説明会の日程が届くとのこと。",
    "一体化しないこと、まだ決めていないことで不利益を受けることはありません。",
    "Combining is not required, and there is no deadline.",
    "The government has said it cannot be made compulsory.",
    "Mustard is on the menu.",
]


@pytest.mark.parametrize("text,words", ORDERS)
def test_imperative_and_deadline_wording_is_flagged(text, words):
    assert flagged_words(text) == words


@pytest.mark.parametrize("text", VOLUNTARY)
def test_ordinary_voluntary_wording_is_not_flagged(text):
    assert flagged_words(text) == []


def test_the_japanese_explanation_is_not_flagged():
    """The explanation is the model of voluntary wording; its one duty (report
    a lost card) is written 届け出なければなりません, which is left alone."""
    assert flagged_words((CONTENT / "explanation-v1.ja.md").read_text(encoding="utf-8")) == []


def test_the_english_explanation_is_flagged_only_for_its_card_duties():
    """ "cannot be made compulsory" is read past; "must" is the duty to report a
    lost card and update a changed number, which a notice would rightly be asked about."""
    assert flagged_words((CONTENT / "explanation-v1.en.md").read_text(encoding="utf-8")) == ["must"]


def test_highlight_marks_only_flagged_words_and_escapes_the_rest():
    html = highlight("<b>強制ではありません</b>が、必ず提出のこと。")
    assert html == "&lt;b&gt;強制ではありません&lt;/b&gt;が、<mark>必ず</mark>提出<mark>のこと</mark>。"


@pytest.fixture
def staff_client(alice):
    client = Client()
    client.force_login(alice.user)
    return client


def test_staff_see_that_a_notice_was_flagged_and_what_it_means(staff_client, hr):
    services.publish_notice(
        user=hr.user,
        title="【至急】切替手続きについて",
        body="全職員は期限までに必ずマイナンバーカードを提出すること。",
        accept_flagged=True,
    )
    html = staff_client.get("/").content.decode()
    assert "強制と受け取られるおそれのある表現があります" in html
    assert "人事課は公開の前にこの表現について注意を受けましたが、そのまま公開しました。" in html
    assert "<mark>必ず</mark>" in html and "<mark>期限までに</mark>" in html
    assert "【<mark>至急</mark>】" in html


def test_a_clean_notice_carries_no_mark(staff_client, hr):
    services.publish_notice(user=hr.user, title="説明会のご案内", body="説明会を開きます。")
    html = staff_client.get("/").content.decode()
    assert "説明会を開きます。" in html
    assert "強制と受け取られるおそれ" not in html and "<mark>" not in html


def test_the_flag_is_read_in_english_too(staff_client, hr):
    services.publish_notice(user=hr.user, title="Switch-over", body="You must apply.", accept_flagged=True)
    staff_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = staff_client.get("/").content.decode()
    assert "This notice contains wording that may sound compulsory" in html
    assert "You <mark>must</mark> apply." in html
