"""HR's pages in headless Chromium: sign-in with TOTP, then every page checked with axe."""

import re

from tests.browser.conftest import assert_accessible, sign_in

HR = "browser-hr@example.jp"


def test_hr_pages_have_no_accessibility_violations(page, axe):
    sign_in(page, HR)
    page.goto("/hr/")
    assert page.locator("h1").inner_text() == "集計"
    assert "秘匿" in page.content()
    assert page.locator("svg[role=img] title").count() == 1
    assert page.locator("svg circle").count() >= 6, "the demo's weeks make a trend"
    assert "9.0%" not in page.locator("section[aria-labelledby=org-heading]").inner_text()
    assert "目標ではありません" in page.locator("section[aria-labelledby=reference-heading]").inner_text()
    assert_accessible(axe, page, "ja-hr-01-dashboard")

    page.goto("/hr/queue/?q=" + "あ" * 101)
    assert page.locator(".error-summary").is_visible()
    assert_accessible(axe, page, "ja-hr-02-queue-search-too-long")

    page.goto("/hr/queue/")
    assert_accessible(axe, page, "ja-hr-02-queue")

    page.goto("/hr/roster/")
    assert_accessible(axe, page, "ja-hr-03-roster")

    page.goto("/hr/notices/")
    page.get_by_role("button", name="公開する").click()
    summary = page.locator(".error-summary")
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_title"
    assert_accessible(axe, page, "ja-hr-04-notice-errors")
    page.get_by_label("件名").fill("切替の手続きについて")
    page.get_by_label("本文").fill("期限までに必ず提出すること。")
    page.get_by_role("button", name="確認してプレビュー").click()
    assert page.locator("mark").count() >= 2
    assert_accessible(axe, page, "ja-hr-04-notice-flagged")

    page.goto("/hr/explanation/")
    assert_accessible(axe, page, "ja-hr-05-explanation")

    page.get_by_role("button", name="English").click()
    for path, name in (
        ("/hr/", "en-hr-01-dashboard"),
        ("/hr/queue/", "en-hr-02-queue"),
        ("/hr/roster/", "en-hr-03-roster"),
        ("/hr/notices/", "en-hr-04-notices"),
        ("/hr/explanation/", "en-hr-05-explanation"),
    ):
        page.goto(path)
        assert re.match(r"en", page.locator("html").get_attribute("lang"))
        assert_accessible(axe, page, name)
    page.goto("/hr/notices/")
    page.get_by_role("button", name="Publish", exact=True).click()
    page.locator(".error-summary").wait_for()  # the answer to the click, not the page before it
    assert_accessible(axe, page, "en-hr-04-notice-errors")
