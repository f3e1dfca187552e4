"""The complaint path and the union's pages in headless Chromium, checked with axe in ja and en."""

import re

from tests.browser.conftest import assert_accessible, sign_in

EMPLOYEE = "browser@example.jp"
UNION = "browser-union@example.jp"


def test_complaint_path_and_union_pages(browser, server_url, axe):
    context = browser.new_context(
        base_url=server_url, locale="ja-JP", viewport={"width": 1100, "height": 900}
    )
    page = context.new_page()
    sign_in(page, EMPLOYEE)
    page.get_by_role("link", name="圧力を感じたら労働組合へ").click()
    assert_accessible(axe, page, "ja-c-01-new")
    page.get_by_role("button", name="労働組合に送る").click()
    page.locator(".notice--error").wait_for()  # the answer to the click, not the page before it
    assert_accessible(axe, page, "ja-c-02-errors")
    page.get_by_label("一体化は強制だと言われた").check()
    page.get_by_label("所属長").check()
    page.get_by_label("詳しく教えてください").fill("朝礼で、一体化は義務だと言われました。")
    page.get_by_label("匿名で送る").check()
    page.get_by_role("button", name="労働組合に送る").click()
    code = re.sub(r"\D", "", page.locator(".receipt-code").inner_text())
    assert len(code) == 16
    assert_accessible(axe, page, "ja-c-03-code")
    page.get_by_role("button", name="ログアウト").click()

    page.goto("/complaints/follow-up/")
    assert_accessible(axe, page, "ja-c-04-follow-up")
    page.get_by_label("受付コード（16桁）").fill(code)
    page.get_by_role("button", name="開く").click()
    assert "朝礼で" in page.content()
    assert_accessible(axe, page, "ja-c-05-detail")
    context.close()

    context = browser.new_context(
        base_url=server_url, locale="ja-JP", viewport={"width": 1100, "height": 900}
    )
    page = context.new_page()
    sign_in(page, UNION)
    for path, name in (
        ("/union/", "ja-u-01-inbox"),
        ("/union/audit/", "ja-u-02-audit"),
        ("/union/audit/?hr=1", "ja-u-03-audit-hr"),
        ("/union/indicators/", "ja-u-04-indicators"),
        ("/union/witness/", "ja-u-06-witness"),
    ):
        page.goto(path)
        assert_accessible(axe, page, name)
    # The audit table names each event in Japanese; the stored body opens on demand.
    page.goto("/union/audit/?kind=decision.recorded")
    assert page.locator("tbody strong").first.inner_text() == "選択を記録した"
    assert "本人だけが開ける記録" in page.locator("tbody").inner_text()
    body = page.locator("tbody details code").first
    assert not body.is_visible()
    page.locator("tbody details summary").first.click()
    assert body.is_visible() and '"kind":"decision.recorded"' in body.inner_text()
    assert_accessible(axe, page, "ja-u-02b-audit-body")
    page.goto("/union/")
    page.locator("tbody a").first.click()
    assert_accessible(axe, page, "ja-u-05-complaint")
    page.get_by_role("button", name="English").click()
    assert_accessible(axe, page, "en-u-05-complaint")
    for path, name in (
        ("/union/", "en-u-01-inbox"),
        ("/union/audit/", "en-u-02-audit"),
        ("/union/audit/?kind=role.granted", "en-u-02b-audit-roles"),
        ("/union/indicators/", "en-u-04-indicators"),
        ("/union/witness/", "en-u-06-witness"),
        ("/complaints/new/", "en-c-01-new"),
        ("/complaints/follow-up/", "en-c-04-follow-up"),
    ):
        page.goto(path)
        assert_accessible(axe, page, name)
    context.close()
