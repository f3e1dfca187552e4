"""Issue #10's employee pages and layout in Chromium, in both languages, with axe:
the steps, the receipt (comment, withdrawal, what happens next, print button),
the grouped menu and, on a 375×812 phone, the menu button and the three choices."""

import re

import pytest

from tests.browser.conftest import assert_accessible, sign_in

EMPLOYEE = "browser-polish@example.jp"
PHONE = {"width": 375, "height": 812}
TEXT = {
    "ja": {
        "comment": "コメント（任意）",
        "record": "この選択を記録する",
        "menu": "メニュー",
        "withdrawal": "撤回",
    },
    "en": {
        "comment": "Comment (optional)",
        "record": "Record this decision",
        "menu": "Menu",
        "withdrawal": "Withdrawal",
    },
}


def in_language(page, lang):
    if lang == "en":
        page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == lang


def record(page, lang, value, comment=""):
    page.goto("/decision/")
    page.locator(f"input[name=choice][value={value}]").check()
    page.get_by_label(TEXT[lang]["comment"]).fill(comment)
    page.get_by_role("button", name=TEXT[lang]["record"]).click()
    page.wait_for_url(re.compile(r"/receipts/[0-9A-Z]{4}(-[0-9A-Z]{4}){4}/$"))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_steps_receipt_and_history(page, axe, lang):
    sign_in(page, EMPLOYEE)
    in_language(page, lang)
    page.goto("/explanation/")
    if page.locator("form.acknowledge-box").count():
        assert (
            page.locator("ol.progress-steps [aria-current=step]")
            .inner_text()
            .endswith("説明" if lang == "ja" else "Explanation")
        )
        assert_accessible(axe, page, f"polish-{lang}-explanation")
        # Not ticked: the summary comes above the long text and its link reaches the box.
        page.locator("form.acknowledge-box button[type=submit]").click()
        summary = page.locator(".error-summary")
        assert summary.bounding_box()["y"] < page.locator("article.explanation").bounding_box()["y"]
        summary.get_by_role("link").click()
        assert page.evaluate("document.activeElement.id") == "id_understood"
        assert_accessible(axe, page, f"polish2-{lang}-explanation-error")
        page.get_by_role("checkbox").check()
        page.locator("form.acknowledge-box button[type=submit]").click()
    page.goto("/decision/")
    assert page.locator("ol.progress-steps [aria-current=step]").count() == 1
    assert_accessible(axe, page, f"polish-{lang}-decision")

    comment = "説明会の後で決めました" if lang == "ja" else "Decided after the briefing"
    record(page, lang, "opt_in", comment)
    assert comment in page.locator(".receipt").inner_text()
    assert page.locator("#next-heading").is_visible()
    assert page.get_by_role("button", name=re.compile("印刷|Print")).is_visible()  # the script ran
    assert_accessible(axe, page, f"polish-{lang}-receipt-opt-in")

    record(page, lang, "undecided")
    assert page.locator("#receipt-heading").inner_text().startswith(TEXT[lang]["withdrawal"])
    assert_accessible(axe, page, f"polish-{lang}-receipt-withdrawal")

    # A comment with the same choice again is not dropped in silence: said, and kept in the box.
    page.goto("/decision/")
    page.locator("input[name=choice][value=undecided]").check()
    page.get_by_label(TEXT[lang]["comment"]).fill("もう一度" if lang == "ja" else "Once more")
    page.get_by_role("button", name=TEXT[lang]["record"]).click()
    page.locator(".error-summary").get_by_role("link").click()
    assert page.evaluate("document.activeElement.value") == ("もう一度" if lang == "ja" else "Once more")
    assert_accessible(axe, page, f"polish2-{lang}-comment-unchanged")

    page.goto("/history/")
    assert comment in page.locator("table").first.inner_text()
    assert_accessible(axe, page, f"polish-{lang}-history")

    page.goto("/")
    # A notice card starts with its heading: no empty band above it.
    for card in page.locator("section[aria-labelledby=notices-heading] article.status-card").all():
        gap = card.locator("h3").bounding_box()["y"] - card.bounding_box()["y"]
        assert gap < 40, f"{gap}px above the notice's heading"
    assert_accessible(axe, page, f"polish-{lang}-home")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_on_a_phone_the_menu_folds_and_the_three_choices_fit(browser, server_url, axe, lang):
    context = browser.new_context(base_url=server_url, locale="ja-JP", viewport=PHONE)
    page = context.new_page()
    sign_in(page, EMPLOYEE)
    in_language(page, lang)
    page.goto("/decision/")
    assert not page.locator("nav.site-nav--wide").is_visible()
    menu = page.locator("details.site-nav--narrow")
    assert menu.locator("summary").inner_text().startswith(TEXT[lang]["menu"])
    assert not menu.get_by_role("link", name=re.compile("履歴と受付票|History and receipts")).is_visible()
    last = page.locator(".choice").nth(2).bounding_box()
    assert last["y"] + last["height"] <= PHONE["height"], "the third choice is below the fold"
    assert_accessible(axe, page, f"polish-{lang}-phone-decision")

    menu.locator("summary").click()
    link = menu.get_by_role("link", name=re.compile("履歴と受付票|History and receipts"))
    assert link.is_visible()
    assert_accessible(axe, page, f"polish-{lang}-phone-menu-open")
    link.click()
    page.wait_for_url(re.compile(r"/history/$"))
    # The history's tables scroll sideways in their box, with readable columns; the page does not
    # (its links' hidden labels once pushed it to 425 px, and the columns were one character wide).
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for table in page.locator(".table-scroll > table").all():
        assert table.bounding_box()["width"] >= 640
    context.close()


def test_without_javascript_the_receipt_says_how_to_print(browser, server_url):
    context = browser.new_context(base_url=server_url, java_script_enabled=False, locale="ja-JP")
    page = context.new_page()
    sign_in(page, EMPLOYEE)
    page.goto("/history/")
    page.locator("table").first.get_by_role("link", name=re.compile("^受付票")).first.click()
    assert not page.locator(".print-button").is_visible()
    assert "印刷機能" in page.content()
    context.close()
