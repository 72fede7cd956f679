"""How long a client must wait before its next try, in words and as a
countdown (the progressive delay).

The countdown reads "0:05" and `countdown.js` counts it down in the browser;
without JavaScript it stays a correct statement of the wait when the page was
made. Minutes and seconds need no plural forms, so the script can change the
figures without knowing the language.
"""

from __future__ import annotations

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

SCRIPT = "wagtail_loginlimit/js/countdown.js"


def clock(seconds: int) -> str:
    """`seconds` as minutes and seconds: "0:05", "4:16"."""
    minutes, rest = divmod(max(0, seconds), 60)
    return f"{minutes}:{rest:02d}"


def wait_text(seconds: int) -> str:
    """ "You can try again in 4 seconds." (plain text: JSON, API callers)."""
    return ngettext(
        "You can try again in %(count)s second.",
        "You can try again in %(count)s seconds.",
        seconds,
    ) % {"count": seconds}


def countdown(seconds: int) -> SafeString:
    """ "You can try again in 0:04." with the figures in a live countdown;
    the script puts "You can try again now." in its place at the end. The
    figures are not read out each second (`aria-live="off"`, inside the
    page's message region); the closing sentence is."""
    timer = format_html(
        '<span class="loginlimit-countdown" role="timer" aria-live="off" '
        'data-loginlimit-countdown="{}">{}</span>',
        seconds,
        clock(seconds),
    )
    sentence = escape(_("You can try again in %(countdown)s.")) % {"countdown": timer}
    return format_html(
        '<span class="loginlimit-wait" data-loginlimit-done="{}">{}</span>',
        _("You can try again now."),
        mark_safe(sentence),  # noqa: S308 - the words and the timer are escaped
    )


def duration_text(seconds: int) -> str:
    """A short wait in words: "4 seconds", "5 minutes", "2 hours" (rounded
    down to the largest unit that fits twice)."""
    if seconds < 120:
        return ngettext("%(count)s second", "%(count)s seconds", seconds) % {
            "count": seconds
        }
    if seconds < 7200:
        minutes = seconds // 60
        return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {
            "count": minutes
        }
    hours = seconds // 3600
    return ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours}
