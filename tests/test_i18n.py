"""Japanese first, English second; every string translated."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def po_entries(path):
    text = path.read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        ids = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        strs = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', block, re.M)
        if ids and strs:
            msgid = "".join(re.findall(r'"(.*)"', ids.group(1)))
            context = re.search(r'^msgctxt "(.*)"$', block, re.M)
            if context:  # gettext files a msgid with a context under "context\x04msgid"
                msgid = f"{context.group(1)}\x04{msgid}"
            yield msgid, ["".join(re.findall(r'"(.*)"', s)) for s in strs], "#, fuzzy" in block


def test_every_string_has_a_japanese_translation():
    entries = [e for e in po_entries(ROOT / "consent/locale/ja/LC_MESSAGES/django.po") if e[0]]
    assert len(entries) > 100
    untranslated = [msgid for msgid, strs, fuzzy in entries if fuzzy or not all(strs)]
    assert untranslated == []


def test_no_translation_repeats_itself():
    """A merge that appends a translation to itself is caught here."""
    for msgid, strs, _fuzzy in po_entries(ROOT / "consent/locale/ja/LC_MESSAGES/django.po"):
        for text in strs if msgid else ():
            assert len(text) <= 2 * len(msgid) + 20, msgid


def test_a_count_is_written_the_same_way_everywhere():
    """「3件」, never 「3 件」: a number and its counter word are written together."""
    spaced = [
        msgid
        for msgid, strs, _fuzzy in po_entries(ROOT / "consent/locale/ja/LC_MESSAGES/django.po")
        for text in strs
        if re.search(r"%\([a-z_]+\)[sd] 件", text)
    ]
    assert spaced == []


def test_the_committed_compiled_catalogue_matches_the_po_file():
    """A machine without gettext runs on the committed .mo, so it must be current."""
    import gettext

    with open(ROOT / "consent/locale/ja/LC_MESSAGES/django.mo", "rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    for msgid, strs, _fuzzy in po_entries(ROOT / "consent/locale/ja/LC_MESSAGES/django.po"):
        if msgid and len(strs) == 1:
            unescaped = msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
            expected = strs[0].encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
            assert catalogue.gettext(unescaped) == expected, msgid


def test_pages_are_japanese_by_default(client, db):
    html = client.get("/").content.decode()
    assert '<html lang="ja">' in html
    assert "一体化は任意です" in html


def test_a_browser_asking_for_english_gets_english(client, db):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html
    assert "is voluntary" in html


def test_every_page_offers_the_language_switch(alice_client):
    for path in ("/", "/explanation/", "/history/"):
        html = alice_client.get(path).content.decode()
        assert 'name="language" value="en"' in html and 'name="language" value="ja"' in html


@pytest.mark.parametrize("language,expected", [("ja", "年"), ("en", "20")])
def test_dates_follow_the_language(alice_client, alice, language, expected):
    from tests.conftest import acknowledge, decide

    acknowledge(alice)
    decide(alice, "opt_out")
    alice_client.post("/i18n/setlang/", {"language": language, "next": "/"})
    html = alice_client.get("/history/").content.decode()
    date_cell = re.search(r"<tbody>\s*<tr>\s*<td>([^<]+)</td>", html).group(1)
    assert expected in date_cell
    if language == "ja":
        assert re.match(r"\d{4}年\d{1,2}月\d{1,2}日", date_cell)


# English a Japanese page may show: names of formats, standards and products,
# and what the page quotes on purpose (codes, hashes, addresses are in <code>).
ALLOWED_ASCII = {
    "CSV",
    "Excel",
    "UTF",
    "Shift_JIS",
    "CP932",
    "ISO",
    "IEC",
    "JSON",
    "LD",
    "SHA",
    "QR",
    "ZIP",
    "IC",
    "ID",
    "Google",
    "Microsoft",
    "Authenticator",
    "TOTP",
    "DPV",
    "VERIFY",
    "md",
    "body",
    "subject",
    "tlog",
    "proof",
    "jsonld",
    "example",
    "demo",
    "jp",
    "YYYY",
    "MM",
    "DD",
    "Ed25519",
    "RFC",
    # the checkpoint file's first line and the key file's extension, named as the union will see them
    "origin",
    "vkey",
    # the test's people
    "alice",
    "bob",
}


def english_words(html):
    """ASCII words of three letters or more in the visible text of <main>."""
    main = html.split("<main", 1)[1].split(">", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<(code|script|style|svg|textarea)\b.*?</\1>", " ", main, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", main)
    text = re.sub(r"\S+@\S+|https?://\S+|/\S+|\S*\d\S*", " ", text)
    return {word for word in re.findall(r"[A-Za-z][A-Za-z_]{2,}", text) if word not in ALLOWED_ASCII}


def test_no_english_is_left_on_the_japanese_pages(
    alice_client, alice, hr, union, history, django_capture_on_commit_callbacks
):
    from django.test import Client

    from consent import figures, services
    from consent.models import Choice, Decision
    from tests.conftest import sign_in_with_mfa

    figures.publish_snapshot()
    receipt = Decision.objects.filter(employee=alice).latest("audit_seq").receipt_id
    complaint, _code = services.file_complaint(
        user=alice.user,
        anonymous=False,
        what="other",
        involved_role="other",
        details="相談",
        share_pseudonym=True,
    )
    assert Choice.OPT_OUT
    pages = {
        alice_client: [
            "/",
            "/explanation/",
            "/decision/",
            f"/receipts/{receipt}/",
            "/history/",
            "/help/",
            "/complaints/new/",
            "/complaints/",
            f"/complaints/{complaint.number}/",
        ],
        sign_in_with_mfa(Client(), hr.user): [
            "/hr/",
            "/hr/queue/",
            "/hr/notices/",
            "/hr/roster/",
            "/hr/explanation/",
        ],
        sign_in_with_mfa(Client(), union.user): [
            "/union/",
            f"/union/complaints/{complaint.number}/",
            "/union/indicators/",
            "/union/audit/",
            "/union/witness/",
        ],
        Client(): ["/accounts/login/", "/accounts/password/reset/", "/explanation/read/", "/help/"],
    }
    leftovers = {}
    for client, paths in pages.items():
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            words = english_words(response.content.decode())
            if words:
                leftovers[path] = sorted(words)
    assert not leftovers, "\n".join(f"{path}: {words}" for path, words in leftovers.items())
