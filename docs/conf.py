"""Sphinx configuration of the documentation site built from docs/.

Sphinx with MyST (the pages stay Markdown, readable on GitHub as they are) and
the Wagtail theme, as Wagtail's own documentation is built: readers of a Wagtail
plugin's docs find the look and navigation of docs.wagtail.org. The build is
checked with warnings as errors (`tox -e docs`): a broken link between pages, a
missing heading anchor or a missing screenshot fails it.

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

project = "wagtail-loginlimit"
author = "The wagtail-loginlimit contributors"
copyright = "The wagtail-loginlimit contributors, BSD-3-Clause"  # noqa: A001
release = version = _project["version"]

extensions = ["myst_parser", "sphinx_wagtail_theme"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md", "Thumbs.db", ".DS_Store"]

# GitHub-style anchors for headings down to ###, so that links such as
# `operations.md#the-digest` work on GitHub and on the site alike.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]
# Code blocks in languages Pygments does not know (cron, console…) are shown
# plainly rather than warned about.
highlight_language = "none"

html_theme = "sphinx_wagtail_theme"
html_title = "wagtail-loginlimit"
html_theme_options = {
    "project_name": "wagtail-loginlimit",
    "github_url": "",
    "footer_links": "",
    "header_links": "",
}
html_show_sourcelink = False
html_last_updated_fmt = None
# No search index service, no analytics: the site works from a folder.
html_use_index = False

# The pages are written for GitHub, where the README sits next to docs/. On the
# site the README is the home page (index.md includes it) and SECURITY.md and
# CHANGELOG.md are pages of their own: links to them are pointed there.
_SITE_LINKS = {
    "](../README.md": "](index.md",
    "](SECURITY.md)": "](security.md)",
    "](CHANGELOG.md)": "](changelog.md)",
}


def _site_links(text: str) -> str:
    for github, site in _SITE_LINKS.items():
        text = text.replace(github, site)
    return text


def _source_read(app, docname, source):
    source[0] = _site_links(source[0])


def _include_read(app, relative_path, parent_docname, content):
    content[0] = _site_links(content[0])


def setup(app):
    from pygments.lexers.special import TextLexer

    # ```cron blocks: shown as they are (Pygments has no crontab lexer).
    app.add_lexer("cron", TextLexer)
    app.connect("source-read", _source_read)
    app.connect("include-read", _include_read)
