"""The whole employee path in headless Chromium, checked with axe in both languages."""

import re

from tests.browser.conftest import assert_accessible, sign_in

EMPLOYEE = "browser@example.jp"


def switch_to_english(page):
    page.get_by_role("button", name="English").click()


def test_the_employee_path_in_japanese_then_english(page, axe):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert "任意" in page.locator("h1").inner_text()
    assert_accessible(axe, page, "ja-01-welcome")

    page.goto("/accounts/login/")
    assert_accessible(axe, page, "ja-02-login")
    page.get_by_label("メールアドレス").fill("browser@example.jp")
    page.get_by_label("パスワード").fill("wrong-password")
    page.get_by_role("button", name="ログイン").click()
    page.locator(".notice--error").wait_for()  # the answer to the click, not the page before it
    assert_accessible(axe, page, "ja-03-login-error")

    sign_in(page, EMPLOYEE)
    page.wait_for_url(re.compile(r"/$"))
    assert "選択はまだ記録されていません" in page.content()
    assert_accessible(axe, page, "ja-04-home")

    # The decision page is closed until the explanation is confirmed.
    page.goto("/decision/")
    page.wait_for_url(re.compile(r"/explanation/$"))
    assert page.get_by_role("checkbox").is_checked() is False
    assert_accessible(axe, page, "ja-05-explanation")

    page.get_by_role("button", name="確認して進む").click()
    assert "チェックを入れて" in page.content()
    assert_accessible(axe, page, "ja-06-explanation-error")

    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="確認して進む").click()
    page.wait_for_url(re.compile(r"/decision/$"))
    radios = page.get_by_role("radio")
    assert radios.count() == 3
    assert not any(radios.nth(i).is_checked() for i in range(3))
    boxes = [page.locator(".choice").nth(i).bounding_box() for i in range(3)]
    assert len({(round(b["width"]), round(b["height"])) for b in boxes}) == 1, "choices differ in size"
    assert_accessible(axe, page, "ja-07-decision")

    page.get_by_role("button", name="この選択を記録する").click()
    assert "3つの選択肢から1つを選んでください" in page.content()
    page.locator("input[name=choice][value=opt_out]").check()
    page.get_by_label("コメント（任意）").fill("番号は 1234-5678-9018 です")
    page.get_by_role("button", name="この選択を記録する").click()
    assert "マイナンバー" in page.locator(".notice--error").inner_text()
    assert_accessible(axe, page, "ja-08-decision-error")

    page.locator("input[name=choice][value=opt_out]").check()
    page.get_by_label("コメント（任意）").fill("")
    page.get_by_role("button", name="この選択を記録する").click()
    page.wait_for_url(re.compile(r"/receipts/[\w-]+/$"))
    assert "あなたの選択を記録しました" in page.content()
    assert_accessible(axe, page, "ja-09-receipt")

    # Withdrawing or changing takes the same steps.
    page.goto("/decision/")
    page.get_by_label("まだ決めていない").check()
    page.get_by_role("button", name="この選択を記録する").click()
    page.wait_for_url(re.compile(r"/receipts/[\w-]+/$"))

    page.goto("/history/")
    assert page.locator("table").first.locator("tbody tr").count() == 2  # decisions; events follow
    assert_accessible(axe, page, "ja-10-history")

    switch_to_english(page)
    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(axe, page, "en-10-history")
    for path, name in (
        ("/", "en-04-home"),
        ("/explanation/", "en-05-explanation"),
        ("/decision/", "en-07-decision"),
    ):
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == "en"
        assert_accessible(axe, page, name)
    page.goto("/history/")
    page.locator("tbody tr a", has_text="Receipt").first.click()
    assert_accessible(axe, page, "en-09-receipt")
    page.get_by_role("button", name="Sign out").click()
    page.goto("/")
    assert_accessible(axe, page, "en-01-welcome")
    page.goto("/accounts/login/")
    assert_accessible(axe, page, "en-02-login")


def test_it_works_without_javascript(browser, server_url):
    context = browser.new_context(base_url=server_url, java_script_enabled=False, locale="ja-JP")
    page = context.new_page()
    sign_in(page, EMPLOYEE)
    page.goto("/explanation/")
    assert "任意" in page.content()
    page.goto("/history/")
    assert page.locator("h1").inner_text() == "履歴と受付票"
    context.close()
