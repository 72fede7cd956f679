"""The wheel users install carries what Django needs at run time: the compiled
translations as real files (in a checkout `wagtail_loginlimit/locale` is a
symlink to the top-level `locale/`, which a wheel cannot hold), the templates
and the migrations.

The wheel is really built, with the `build` package (PEP 517, isolated build
environment) as a release would be, from a copy of the sources in a temporary
folder, so that it neither races other builds in the checkout nor picks up a
stale `build/` folder."""

from __future__ import annotations

import gettext
import io
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "wagtail_loginlimit"
LANGUAGES = sorted(
    {"de", "fr", "es", "nl"}
    | {p.name for p in (REPO / "locale").iterdir() if p.is_dir()}
)
# What a wheel build reads: the metadata, the build hook and the sources.
SOURCES = ["setup.py", "pyproject.toml", "MANIFEST.in", "README.md", "LICENSE"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.py[cod]", ".gitkeep")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        shutil.copy2(REPO / name, source / name)
    # symlinks=True: the copy keeps `wagtail_loginlimit/locale` a symlink, as
    # in a checkout; setup.py must replace it with the real files.
    shutil.copytree(REPO / "locale", source / "locale", ignore=IGNORE)
    shutil.copytree(REPO / PACKAGE, source / PACKAGE, symlinks=True, ignore=IGNORE)
    assert (source / PACKAGE / "locale").is_symlink()

    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [built] = out.glob("*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def files_under(folder: Path, pattern: str = "*") -> list[str]:
    """Paths inside the wheel of the checkout's files under `folder`."""
    return sorted(
        path.relative_to(REPO).as_posix()
        for path in folder.rglob(pattern)
        if path.is_file() and "__pycache__" not in path.parts
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_wheel_carries_the_compiled_translations(wheel, lang):
    name = f"{PACKAGE}/locale/{lang}/LC_MESSAGES/django.mo"
    info = wheel.getinfo(name)  # KeyError: missing
    assert not is_symlink(info)
    data = wheel.read(info)
    assert data == (REPO / "locale" / lang / "LC_MESSAGES" / "django.mo").read_bytes()
    catalogue = gettext.GNUTranslations(io.BytesIO(data))
    assert catalogue.ngettext(
        "%(count)s attempt remaining.", "%(count)s attempts remaining.", 3
    ) not in ("", "%(count)s attempts remaining.")
    assert f"{PACKAGE}/locale/{lang}/LC_MESSAGES/django.po" in wheel.namelist()


def test_wheel_has_no_symlinks_and_no_stray_locale(wheel):
    assert [i.filename for i in wheel.infolist() if is_symlink(i)] == []
    names = wheel.namelist()
    assert f"{PACKAGE}/locale" not in names  # the symlink stored as a file
    assert not any(name.startswith("locale/") for name in names)
    assert not any(name.endswith(".gitkeep") for name in names)


def test_wheel_carries_every_template(wheel):
    templates = files_under(REPO / PACKAGE / "templates")
    assert templates  # the checkout has some
    missing = sorted(set(templates) - set(wheel.namelist()))
    assert missing == []


def test_wheel_carries_every_migration(wheel):
    migrations = files_under(REPO / PACKAGE / "migrations", "*.py")
    assert f"{PACKAGE}/migrations/0001_initial.py" in migrations
    missing = sorted(set(migrations) - set(wheel.namelist()))
    assert missing == []
