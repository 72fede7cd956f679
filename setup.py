"""Build hook for wagtail-loginlimit. The package metadata lives in pyproject.toml.

The translations are kept in the repository's top-level ``locale/`` folder
(``locale/<lang>/LC_MESSAGES/django.po`` and ``.mo``). Django only looks for an
app's own ``<app>/locale/`` folder, so:

* in a checkout (and an editable install), ``wagtail_loginlimit/locale`` is a
  relative symlink to ``../locale``;
* when a wheel is built, the ``build_py`` command below copies the real ``.po``
  and ``.mo`` files into ``<build_lib>/wagtail_loginlimit/locale/`` — a wheel
  never carries the symlink itself.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PACKAGE = "wagtail_loginlimit"
LOCALE_SOURCE = HERE / "locale"
LOCALE_SUFFIXES = (".po", ".mo")


def locale_files():
    """The translation files under the top-level ``locale/``, relative to it."""
    if not LOCALE_SOURCE.is_dir():
        return []
    return sorted(
        path.relative_to(LOCALE_SOURCE)
        for path in LOCALE_SOURCE.rglob("*")
        if path.suffix in LOCALE_SUFFIXES and path.is_file()
    )


class BuildPyWithLocale(build_py):
    """``build_py`` that also copies the top-level ``locale/`` into the package."""

    def run(self):
        super().run()
        # An editable install runs from the checkout, where the symlink works.
        if not getattr(self, "editable_mode", False):
            self.copy_locale()

    def locale_target(self):
        return Path(self.build_lib) / PACKAGE / "locale"

    def copy_locale(self):
        target = self.locale_target()
        # Start clean: drop a symlink (never ship one) or a stale earlier copy.
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        for relative in locale_files():
            destination = target / relative
            self.mkpath(str(destination.parent))
            # copy_file copies the content, following a symlinked source file.
            self.copy_file(
                str(LOCALE_SOURCE / relative), str(destination), preserve_mode=False
            )

    def get_outputs(self, include_bytecode=True):
        outputs = list(super().get_outputs(include_bytecode=include_bytecode))
        if not getattr(self, "editable_mode", False):
            target = self.locale_target()
            outputs.extend(str(target / relative) for relative in locale_files())
        return outputs


setup(cmdclass={"build_py": BuildPyWithLocale})
