"""A real server in a subprocess and Debian's Chromium driven by Playwright.

The server runs against its own fresh database (a SQLite file, or a new
PostgreSQL database when DATABASE_URL points at PostgreSQL), loaded with the
demo organisation, so the browser sees exactly what `make run` shows.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_PASSWORD = "browser-test-pass-2026"
SCREENSHOTS = ROOT / "var" / "screenshots"

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PROVISION = f"""
from allauth.mfa.totp.internal.auth import TOTP
from consent import services
from consent.models import Office, RoleGrant
from django.contrib.auth.hashers import make_password
for email, name, number, role in (
    ("browser@example.jp", "閲覧 太郎", "B0001", None),
    ("browser-hr@example.jp", "人事 閲覧", "B0002", "hr"),
    ("browser-union@example.jp", "組合 閲覧", "B0003", "union"),
    ("browser-union-en@example.jp", "組合 閲覧", "B0008", "union"),
    ("browser-withdraw@example.jp", "撤回 花子", "B0004", None),
    ("browser-polish@example.jp", "画面 次郎", "B0007", None),
):
    person = services.provision_employee(
        email=email, display_name=name, employee_number=number,
        office=Office.objects.get(code="200"), password_hash=make_password({BROWSER_PASSWORD!r}),
    )
    if role:
        RoleGrant.objects.create(user=person.user, role=role)
        TOTP.activate(person.user, {TOTP_SECRET!r})
# HR officers whose role was just granted: their first sign-in sets up the app.
for email, number in (("browser-new-hr@example.jp", "B0006"), ("browser-new-hr-en@example.jp", "B0005")):
    person = services.provision_employee(
        email=email, display_name="新任 人事", employee_number=number,
        office=Office.objects.get(code="200"), password_hash=make_password({BROWSER_PASSWORD!r}),
    )
    RoleGrant.objects.create(user=person.user, role="hr")
"""


def pytest_collection_modifyitems(items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="package")
def server_url(tmp_path_factory):
    if not Path(CHROMIUM).exists() or shutil.which("fc-list") is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium and fonts must be installed in CI (.ci/run installs them)")
        pytest.skip("Chromium is not installed: apt-get install -y chromium fonts-noto-cjk")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env["DEBUG"] = "1"
    url = os.environ.get("DATABASE_URL", "")
    dropper = None
    if url.startswith("postgres"):
        import psycopg

        server, name = url.rsplit("/", 1)[0], f"consent_browser_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = f"{server}/{name}"

        def dropper():
            with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        env["SQLITE_PATH"] = str(tmp_path_factory.mktemp("browser") / "db.sqlite3")
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "-v", "0"], ["createcachetable"], ["seed_demo"], ["shell", "-c", PROVISION]):
        subprocess.run(manage + command, cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    process = subprocess.Popen(
        manage + ["runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/", timeout=2)  # noqa: S310 - our own loopback server
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("the test server did not start")
            time.sleep(0.3)
    yield base
    process.terminate()
    process.wait(timeout=10)
    if dropper:
        dropper()


# Package-scoped, so closed when the browser tests end: while Playwright's event loop
# runs in this thread Django opens no database connection, and under pytest-xdist a
# worker goes on from the browser tests to others (tests/conftest.py).
@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server_url):
    context = browser.new_context(
        base_url=server_url, locale="ja-JP", viewport={"width": 1100, "height": 900}
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def assert_accessible(axe, page, name):
    """Zero axe violations at WCAG 2.1 AA; a full-page screenshot is kept to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    results = axe.run(
        page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    )
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"


# The 30-second step whose code each account last used: allauth refuses a code
# used once already, so a second sign-in within the same step waits for the next.
_last_step = {}


def totp_code(email):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    step = int(time.time()) // 30
    # Nor is a code sent in its last seconds: on a loaded machine it expires before the server checks it.
    if _last_step.get(email) == step or time.time() > (step + 1) * 30 - 5:
        time.sleep((step + 1) * 30 - time.time() + 0.5)
        step = int(time.time()) // 30
    _last_step[email] = step
    return format_hotp_value(hotp_value(TOTP_SECRET, step))


def sign_in(page, email, password=BROWSER_PASSWORD):
    """Password, then the TOTP code when the account has one."""
    page.goto("/accounts/login/")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/accounts/2fa/authenticate/" in page.url:
        page.locator("input[name=code]").fill(totp_code(email))
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_url(lambda url: "/accounts/2fa/" not in url)
