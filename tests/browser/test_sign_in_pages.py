"""The sign-in pages, a privileged first sign-in and the pages added with them,
in headless Chromium, checked with axe in Japanese and English. The
screenshots are kept in var/screenshots/ to look at."""

import re
import time

import pytest

from tests.browser.conftest import BROWSER_PASSWORD, assert_accessible, sign_in, totp_code


def check(axe, page, name):
    assert_accessible(axe, page, name)


def code_for(secret):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def english(page):
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"


LABELS = {
    "ja": {
        "email": "メールアドレス",
        "password": "パスワード",
        "sign_in": "ログイン",
        "set_up": "設定して次へ",
    },
    "en": {
        "email": "Email address",
        "password": "Password",
        "sign_in": "Sign in",
        "set_up": "Set up and continue",
    },
}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_signed_out_pages(page, axe, lang):
    page.goto("/accounts/login/")
    if lang == "en":
        english(page)
    words = LABELS[lang]
    check(axe, page, f"service-{lang}-01-login")
    page.get_by_label(words["email"]).fill("browser@example.jp")
    page.get_by_label(words["password"]).fill("wrong-password")
    page.get_by_role("button", name=words["sign_in"], exact=True).click()
    page.locator("[role=alert]").wait_for()  # the answer to the click, not the page before it
    check(axe, page, f"service-{lang}-02-login-error")
    # The switch works after a failed POST too.
    other = "English" if lang == "ja" else "日本語"
    page.get_by_role("button", name=other).click()
    assert "/accounts/login/" in page.url
    page.get_by_role("button", name="English" if lang == "en" else "日本語").click()

    page.goto("/accounts/password/reset/")
    check(axe, page, f"service-{lang}-03-password-reset")
    page.get_by_label(words["email"]).fill("browser@example.jp")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/password/reset/done/$"))
    check(axe, page, f"service-{lang}-04-password-reset-sent")
    page.goto("/accounts/password/reset/key/1-bad-link/")
    check(axe, page, f"service-{lang}-05-password-link-expired")
    page.goto("/accounts/signup/")
    page.wait_for_url(re.compile(r"/accounts/login/$"))
    check(axe, page, f"service-{lang}-06-signup-closed")
    page.goto("/explanation/read/")
    check(axe, page, f"service-{lang}-07-explanation-public")
    page.goto("/help/")
    check(axe, page, f"service-{lang}-08-help")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_first_privileged_sign_in_in_three_screens(page, axe, lang):
    email = "browser-new-hr@example.jp" if lang == "ja" else "browser-new-hr-en@example.jp"
    page.goto("/accounts/login/?next=/hr/")
    if lang == "en":
        english(page)
    words = LABELS[lang]
    page.get_by_label(words["email"]).fill(email)
    page.get_by_label(words["password"]).fill(BROWSER_PASSWORD)
    page.get_by_role("button", name=words["sign_in"], exact=True).click()
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    check(axe, page, f"service-{lang}-10-first-sign-in-app")
    secret = page.locator("#totp-secret").text_content().strip()
    page.locator("input[name=code]").fill(code_for(secret))
    page.get_by_role("button", name=words["set_up"]).click()
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/"))
    assert page.locator(".recovery-codes li").count() > 0
    check(axe, page, f"service-{lang}-11-first-sign-in-recovery-codes")
    page.locator("main a.button--primary").click()
    page.wait_for_url(re.compile(r"/hr/$"))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_signed_in_account_pages(page, axe, lang):
    # An account per language: the second sign-in would otherwise wait up to 30 s for a fresh code.
    union = {"ja": "browser-union@example.jp", "en": "browser-union-en@example.jp"}[lang]
    page.goto("/accounts/login/")
    if lang == "en":
        english(page)
    words = LABELS[lang]
    page.get_by_label(words["email"]).fill(union)
    page.get_by_label(words["password"]).fill(BROWSER_PASSWORD)
    page.get_by_role("button", name=words["sign_in"], exact=True).click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.locator("input[name=code]").fill("000000")
    page.locator("main form button[type=submit]").first.click()
    page.locator("[role=alert]").wait_for()  # the answer to the click, not the page before it
    check(axe, page, f"service-{lang}-12-2fa-at-sign-in")
    page.locator("input[name=code]").fill(totp_code(union))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/2fa/" not in url)

    # The union inbox keeps the main menu.
    page.goto("/union/")
    assert page.locator("nav.site-nav a[href='/history/']").count() == 1
    check(axe, page, f"service-{lang}-13-union-inbox")
    for path, name in (
        ("/accounts/2fa/", "14-security"),
        ("/accounts/2fa/reauthenticate/", "15-confirm-with-code"),
        ("/accounts/2fa/recovery-codes/generate/", "16-confirm-with-password"),
        ("/accounts/password/change/", "17-password-change"),
        ("/accounts/logout/", "18-sign-out"),
    ):
        page.goto(path)
        check(axe, page, f"service-{lang}-{name}")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_employee_pages_added_here(page, axe, lang):
    sign_in(page, "browser@example.jp")
    if lang == "en":
        english(page)
    page.goto("/")
    assert page.locator("main mark").count() >= 2
    check(axe, page, f"service-{lang}-20-home-flagged-notice")
    page.goto("/complaints/new/")
    page.locator("main form button[type=submit]").click()
    links = page.locator(".error-summary").get_by_role("link")
    assert links.count() == 4
    links.first.click()
    assert page.evaluate("document.activeElement.id") == "id_what_0"
    check(axe, page, f"polish2-{lang}-complaint-errors")
    page.locator("input[name=what]").first.check()
    page.locator("input[name=involved_role]").first.check()
    page.locator("textarea[name=details]").fill("所属長から一体化は義務だと言われました。")
    page.locator("input[name=identity][value=anonymous]").check()
    page.locator("main form button[type=submit]").click()
    code = page.locator(".receipt-code code").inner_text().replace(" ", "")
    assert len(code) == 16
    assert page.locator("form.lang-switch").count() == 0
    check(axe, page, f"service-{lang}-21-complaint-code")
    page.goto("/complaints/follow-up/")
    page.locator("input[name=code]").fill(code)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/complaints/\d+/$"))
    page.locator("main a[href$='/withdraw/']").click()
    check(axe, page, f"service-{lang}-22-complaint-withdraw-confirm")
