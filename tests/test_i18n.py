"""Translations: the login and lockout pages in the visitor's language, the
admins' email in the site's language, and catalogues that are complete, valid
and compiled.

The catalogues live in the top-level `locale/`; Django finds them through the
app's `wagtail_loginlimit/locale` (a symlink in a checkout, real files in the
wheel — tests/test_wheel.py checks the wheel). The catalogue checks run GNU
gettext's real `msgfmt` (scripts/test installs it) and read the results with
Python's own `gettext` module."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

import wagtail_loginlimit
from wagtail_loginlimit.forms import remaining_message

REPO = Path(__file__).resolve().parent.parent
LOCALE = REPO / "locale"
REQUIRED = {"de", "fr", "es", "nl"}
# Every catalogue in locale/ is checked, including languages added later.
LANGUAGES = sorted(p.name for p in LOCALE.iterdir() if p.is_dir())
WAGTAIL_LOGIN = "/admin/login/"


def text(response) -> str:
    """The page as a person reads it: entities decoded, line breaks and
    indentation collapsed (no-break spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", unescape(response.content.decode()))


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.po"


def mo_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.mo"


# --- what a person sees ---


@pytest.fixture
def in_language(client):
    """Ask for pages in a language the way a browser does (`Accept-Language`)
    or the way Django's language switcher does (the `django_language` cookie)."""

    def choose(lang: str, how: str) -> dict:
        if how == "cookie":
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
            return {}
        return {"HTTP_ACCEPT_LANGUAGE": f"{lang},en;q=0.5"}

    return choose


LOGIN_PAGES = {
    "de": {
        "how": "header",
        "remaining": [
            "Noch 3 Versuche übrig.",
            "Noch 2 Versuche übrig.",
            "Noch 1 Versuch übrig.",
        ],
        "title": "Zu viele Anmeldeversuche",
        "lockout": "Zu viele fehlgeschlagene Anmeldeversuche. "
        "Sie können es in 20\xa0Minuten erneut versuchen.",
        "until": "Sie können sich ab 12:20 Uhr (UTC) wieder anmelden.",
        "back": "Zurück zur Anmeldung",
    },
    "fr": {
        "how": "cookie",
        "remaining": [
            "Il vous reste 3 tentatives.",
            "Il vous reste 2 tentatives.",
            "Il vous reste 1 tentative.",
        ],
        "title": "Trop de tentatives de connexion",
        "lockout": "Trop de tentatives de connexion échouées. "
        "Vous pourrez réessayer dans 20\xa0minutes.",
        "until": "Vous pourrez vous reconnecter à partir de 12:20 (UTC).",
        "back": "Retour à la connexion",
    },
}


@pytest.mark.parametrize("lang", LOGIN_PAGES)
def test_wagtail_login_page_counts_down_in_the_visitors_language(
    login, user, in_language, lang
):
    expected = LOGIN_PAGES[lang]
    extra = in_language(lang, expected["how"])
    for remaining in expected["remaining"]:
        response = login("editor", **extra)
        assert response.status_code == 200
        assert response["Content-Language"] == lang
        page = text(response)
        assert remaining in page
        assert "remaining" not in page
        assert "Your username and password" not in page  # Wagtail's own, translated


@pytest.mark.parametrize("lang", LOGIN_PAGES)
def test_lockout_page_in_the_visitors_language(login, user, in_language, clock, lang):
    expected = LOGIN_PAGES[lang]
    extra = in_language(lang, expected["how"])
    for _ in range(4):
        response = login("editor", **extra)
    assert response.status_code == 429
    assert response["Retry-After"] == "1200"
    page = text(response)
    assert f"<h1>{expected['title']}</h1>" in page
    assert expected["lockout"] in page
    assert expected["until"] in page  # the clock stands at 12:00 UTC
    assert expected["back"] in page
    for english in ("Too many", "try again", "sign in again", "Back to sign in"):
        assert english not in page


def test_long_lockout_page_in_german(login, user, admin_limits, clock):
    admin_limits(allowed_retries=2, allowed_lockouts=1)
    extra = {"HTTP_ACCEPT_LANGUAGE": "de"}
    login("editor", **extra)
    response = login("editor", **extra)
    assert response.status_code == 429
    assert response["Retry-After"] == "86400"
    page = text(response)
    assert (
        "Zu viele fehlgeschlagene Anmeldeversuche. "
        "Sie können es in 1\xa0Tag erneut versuchen."
    ) in page
    assert "Sie können sich am 2. März 2025 ab 12:00 Uhr (UTC) wieder anmelden." in page


def test_blacklisted_page_in_spanish(login, user, settings):
    settings.WAGTAIL_LOGINLIMIT = {"blacklist": ["203.0.113.0/24"]}
    response = login("editor", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 403
    page = text(response)
    assert "<h1>Inicio de sesión no permitido</h1>" in page
    assert "No se permiten inicios de sesión desde su red." in page


@pytest.mark.parametrize(
    ("lang", "one", "three"),
    [
        ("de", "Noch 1 Versuch übrig.", "Noch 3 Versuche übrig."),
        ("fr", "Il vous reste 1 tentative.", "Il vous reste 3 tentatives."),
        ("es", "Le queda 1 intento.", "Le quedan 3 intentos."),
        ("nl", "Nog 1 poging over.", "Nog 3 pogingen over."),
    ],
)
def test_attempts_remaining_singular_and_plural(lang, one, three):
    with translation.override(lang):
        assert remaining_message(1) == one
        assert remaining_message(3) == three


def test_lockout_email_in_the_sites_language(
    login, admin_user, settings, clock, mailoutbox
):
    settings.LANGUAGE_CODE = "nl"
    settings.WAGTAIL_LOGINLIMIT = {"lockout_notify": "email", "notify_email_after": 1}
    for _ in range(4):
        login("bob", HTTP_ACCEPT_LANGUAGE="de")
    [message] = mailoutbox
    assert message.subject == "[Test site] Aanmeldblokkering van 203.0.113.7"
    assert "Geprobeerde gebruikersnaam: bob" in message.body
    assert "Lange blokkering: nee" in message.body
    assert "Anmelde" not in message.body + message.subject  # not the attacker's German


def test_django_finds_the_catalogues_through_the_app():
    """Django loads only `<app>/locale`: in a checkout it must lead to the
    top-level `locale/` (the symlink), in an installed wheel it holds copies."""
    app_locale = Path(wagtail_loginlimit.__file__).resolve().parent / "locale"
    for lang in LANGUAGES:
        assert (app_locale / lang / "LC_MESSAGES" / "django.mo").is_file(), lang
    if (REPO / "wagtail_loginlimit").resolve() == app_locale.parent:
        assert app_locale.resolve() == LOCALE.resolve()


# --- the catalogues themselves ---


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (header and obsolete `#~` entries left out).
    Enough of the PO format for files written by `makemessages`."""
    entries: list[Entry] = []
    entry, target = Entry(), None

    def finish():
        nonlocal entry, target
        if target is not None and entry.msgid:
            entries.append(entry)
        entry, target = Entry(), None

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#~"):
            if not line:
                finish()
            continue
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            value = ast.literal_eval(line)
        else:
            value = ast.literal_eval(rest)
            target = keyword
            if keyword.startswith("msgstr"):
                index = int(keyword[7:-1]) if keyword != "msgstr" else 0
                target = ("msgstr", index)
                entry.msgstr[index] = ""
            elif keyword == "msgid":
                entry.msgid = ""
            elif keyword == "msgid_plural":
                entry.msgid_plural = ""
        if isinstance(target, tuple):
            entry.msgstr[target[1]] += value
        elif target == "msgid":
            entry.msgid += value
        elif target == "msgid_plural":
            entry.msgid_plural += value
    finish()
    return entries


@pytest.fixture(scope="module")
def msgfmt() -> str:
    path = shutil.which("msgfmt")
    assert path, "msgfmt not found: install GNU gettext (apt-get install gettext)"
    return path


def test_every_language_has_a_catalogue_and_a_compiled_one():
    assert REQUIRED <= set(LANGUAGES)
    for lang in LANGUAGES:
        assert po_path(lang).is_file(), lang
        assert mo_path(lang).is_file(), lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogue_passes_msgfmt_check(msgfmt, lang, tmp_path):
    result = subprocess.run(  # noqa: S603 (a fixed program and our own file)
        [msgfmt, "--check", "-o", str(tmp_path / "django.mo"), str(po_path(lang))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("lang", LANGUAGES)
def test_committed_mo_is_compiled_from_the_current_po(msgfmt, lang, tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run(  # noqa: S603
        [msgfmt, "-o", str(fresh), str(po_path(lang))], check=True
    )
    with fresh.open("rb") as f:
        expected = gettext.GNUTranslations(f)
    with mo_path(lang).open("rb") as f:
        committed = gettext.GNUTranslations(f)
    # _catalog: every msgid (plurals as (msgid, n)) → translation, header included.
    assert committed._catalog == expected._catalog, (
        f"locale/{lang}/LC_MESSAGES/django.mo is stale: run scripts/translations compile"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(lang):
    entries = read_po(po_path(lang))
    assert len(entries) > 100  # the parser read the file
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    untranslated = [
        e.msgid
        for e in entries
        if not e.msgstr or any(not value.strip() for value in e.msgstr.values())
    ]
    assert fuzzy == [], f"fuzzy in {lang}: {fuzzy}"
    assert untranslated == [], f"untranslated in {lang}: {untranslated}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_forms_and_placeholders(lang):
    header = po_path(lang).read_text(encoding="utf-8")
    nplurals = int(re.search(r"Plural-Forms: nplurals=(\d+);", header).group(1))
    placeholder = re.compile(r"%\(\w+\)[sdr]")
    for entry in read_po(po_path(lang)):
        if entry.msgid_plural is None:
            assert set(placeholder.findall(entry.msgstr[0])) == set(
                placeholder.findall(entry.msgid)
            ), entry.msgid
            continue
        assert sorted(entry.msgstr) == list(range(nplurals)), entry.msgid
        other = set(placeholder.findall(entry.msgid_plural))
        # The singular may spell "one" out; every other form names the count.
        for index, value in entry.msgstr.items():
            assert set(placeholder.findall(value)) <= other, entry.msgid
            if index > 0:
                assert set(placeholder.findall(value)) == other, entry.msgid


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_are_not_english_copies(lang):
    entries = read_po(po_path(lang))
    same = [e.msgid for e in entries if e.msgstr.get(0) == e.msgid]
    # A few words are the same in both languages ("IP", "Normal", "Date").
    assert len(same) <= len(entries) // 20, same
