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
