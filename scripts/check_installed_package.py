"""Check that the installed wagtail_loginlimit holds everything the checkout has.

tox installs the built wheel; this compares it, file by file, with the source
tree, so a module in a folder without ``__init__.py``, a template or static file
the package data globs miss, or a translation the custom ``build_py`` failed to
copy is caught before anyone installs the wheel from PyPI. It also refuses any
symlink inside the installed package (the checkout's ``locale`` symlink must
never reach a wheel).

Run it isolated so that the checkout is not importable:

    python -I scripts/check_installed_package.py --expect-wheel
"""

import argparse
import filecmp
import importlib.util
import sys
from pathlib import Path

PACKAGE = "wagtail_loginlimit"
REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / PACKAGE
LOCALE = REPO / "locale"
LOCALE_SUFFIXES = (".po", ".mo")


def shipped_files(root: Path):
    """Files under ``root`` that a wheel must contain, relative to ``root``."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        parts = relative.parts
        if parts[0] == "locale":  # the symlink to ../locale; checked on its own
            continue
        if "__pycache__" in parts or any(p.startswith(".") for p in parts):
            continue
        if path.is_file() and path.suffix not in (".pyc", ".pyo"):
            yield relative


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--expect-wheel",
        action="store_true",
        help="fail, rather than skip, when the package is imported from the checkout",
    )
    args = parser.parse_args()

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        print(f"check_installed_package: {PACKAGE} is not installed", file=sys.stderr)
        return 1
    installed = Path(next(iter(spec.submodule_search_locations))).resolve()
    if installed == SOURCE.resolve():
        if args.expect_wheel:
            print(
                f"check_installed_package: {PACKAGE} is imported from the checkout "
                f"({installed}), not from an installed wheel",
                file=sys.stderr,
            )
            return 1
        print(f"check_installed_package: editable install at {installed}; skipped")
        return 0

    problems = []
    for path in installed.rglob("*"):
        if path.is_symlink():
            problems.append(f"symlink in the installed package: {path}")

    expected = list(shipped_files(SOURCE))
    for relative in expected:
        target = installed / relative
        if not target.is_file():
            problems.append(f"missing from the wheel: {PACKAGE}/{relative}")
        elif not filecmp.cmp(SOURCE / relative, target, shallow=False):
            problems.append(f"differs from the checkout: {PACKAGE}/{relative}")

    translations = (
        sorted(
            p.relative_to(LOCALE)
            for p in LOCALE.rglob("*")
            if p.suffix in LOCALE_SUFFIXES and p.is_file()
        )
        if LOCALE.is_dir()
        else []
    )
    for relative in translations:
        target = installed / "locale" / relative
        if not target.is_file():
            problems.append(f"translation missing from the wheel: locale/{relative}")
        elif not filecmp.cmp(LOCALE / relative, target, shallow=False):
            problems.append(f"translation differs from the checkout: locale/{relative}")

    if problems:
        print("check_installed_package: the installed package is incomplete:")
        for problem in problems:
            print(f"  - {problem}")
        print(
            "  (package data globs live in pyproject.toml, the locale copy in setup.py)"
        )
        return 1
    print(
        f"check_installed_package: OK — {installed} has all {len(expected)} package "
        f"files and {len(translations)} translation files of the checkout"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
