"""Attack 6 in the browser: after HR records card work, the decision page warns
before a withdrawal, without JavaScript, and the receipt says what happened."""

import re

from tests.browser.conftest import assert_accessible, sign_in

EMPLOYEE = "browser-withdraw@example.jp"
HR = "browser-hr@example.jp"
WARNING = "いま撤回すると、人事課にあなたの名前が伝わります"


def sign_out(page):
    page.get_by_role("button", name=re.compile("ログアウト|Sign out")).click()


def test_the_warning_before_a_withdrawal_that_names_the_employee(browser, page, axe, server_url):
    sign_in(page, EMPLOYEE)
    page.goto("/explanation/")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="確認して進む").click()
    page.locator("input[name=choice][value=opt_in]").check()
    page.get_by_role("button", name="この選択を記録する").click()
    page.wait_for_url(re.compile(r"/receipts/[\w-]+/$"))
    page.goto("/decision/")
    assert WARNING not in page.content() and "一覧から消えるだけ" in page.content()
    sign_out(page)

    sign_in(page, HR)
    page.goto("/hr/queue/?q=B0004")
    page.get_by_role("button", name=re.compile("完了にする")).first.click()
    sign_out(page)

    # Server-rendered: the warning is there without JavaScript.
    bare = browser.new_context(base_url=server_url, java_script_enabled=False, locale="ja-JP")
    no_js = bare.new_page()
    sign_in(no_js, EMPLOYEE)
    no_js.goto("/decision/")
    assert WARNING in no_js.content()
    bare.close()

    sign_in(page, EMPLOYEE)
    page.goto("/decision/")
    warning = page.locator("#withdrawal-names-you")
    assert warning.is_visible() and WARNING in warning.inner_text()
    # The warning comes before the choices, so it is read before confirming.
    assert warning.bounding_box()["y"] < page.locator(".choices").bounding_box()["y"]
    assert_accessible(axe, page, "ja-11-decision-withdrawal-warning")
    page.locator("input[name=choice][value=opt_out]").check()
    page.get_by_role("button", name="この選択を記録する").click()
    page.wait_for_url(re.compile(r"/receipts/[\w-]+/$"))
    assert "人事課に、カードの作業を元に戻す作業が伝わりました" in page.content()
    assert_accessible(axe, page, "ja-12-receipt-revert")
