"""The documentation's pictures: every screenshot the docs show exists, none is
left over, and they are exactly what scripts/screenshots makes. (The site build
itself is tox's `docs` env: Sphinx with warnings as errors.)"""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SHOTS = DOCS / "screenshots"
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+\.png)\)")


def script():
    spec = importlib.util.spec_from_file_location(
        "screenshots_script", ROOT / "scripts" / "screenshots.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def referenced() -> set[Path]:
    paths = set()
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in IMAGE.findall(page.read_text()):
            paths.add((page.parent / target).resolve())
    return paths


def test_every_picture_shown_exists():
    missing = [str(p.relative_to(ROOT)) for p in referenced() if not p.is_file()]
    assert missing == []


def test_every_screenshot_is_shown_and_made_by_the_script():
    module = script()
    names = [name for name, _, _ in module.ADMIN_SCREENS] + [
        "unlock-confirm",
        "reactivate-confirm",
        "login-attempts-remaining",
        "lockout",
    ]
    expected = {
        f"{name}-{width}-{theme}.png"
        for name in names
        for width in module.WIDTHS
        for theme in module.THEMES
    } | {f"digest-email-{width}-light.png" for width in module.WIDTHS}
    present = {path.name for path in SHOTS.glob("*.png")}
    assert present == expected
    assert {path.name for path in referenced() if path.parent == SHOTS} == expected


def test_screenshots_stay_small():
    sizes = {path.name: path.stat().st_size for path in SHOTS.glob("*.png")}
    assert max(sizes.values()) < 200_000, max(sizes.items(), key=lambda item: item[1])
    assert sum(sizes.values()) < 4_000_000
