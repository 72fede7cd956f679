"""The results as a table: each measurement, its ratio, the target, met or not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchmarks.measure import ratio

ENUMERATION_BAND = (0.9, 1.1)
SCALE_TARGET = 1.5
REPORT_TARGET_SECONDS = 1.0
OVERHEAD_TARGET = 0.10
REFUSED_TARGET = 100.0

QUERY_ROWS = [
    ("failed", "failed login"),
    ("refused", "refused login"),
    ("successful", "successful login"),
    ("admin_page", "admin page view (/admin/pages/)"),
    ("admin_dashboard", "admin dashboard (/admin/)"),
    ("public_page", "public page (/)"),
]
# Requests that are not logins: the plugin must add no query to them.
NOT_LOGINS = {"admin_page", "admin_dashboard", "public_page"}
SCALE_ROWS = [
    ("peek", "lockout check: storage.peek()"),
    ("begin_attempt", "lockout check: storage.begin_attempt(), refused"),
    ("refused_login", "refused login (whole request)"),
]
REPORT_ROWS = [
    ("report_active_lockouts", "report, 1st page: active lockouts"),
    ("report_lockout_history", "report, 1st page: lockout history"),
    ("report_failed_logins", "report, 1st page: failed logins"),
]
METHOD_LABELS = {
    "ip": "ip",
    "username": "username",
    "ip_and_username": "ip_and_username",
    "ip_or_username": "ip_or_username",
}


def duration(seconds: float) -> str:
    milliseconds = seconds * 1000
    if milliseconds < 1:
        return f"{milliseconds * 1000:.0f} µs"
    if milliseconds < 10:
        return f"{milliseconds:.2f} ms"
    if milliseconds < 100:
        return f"{milliseconds:.1f} ms"
    return f"{milliseconds:.0f} ms"


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("yes" if ok else "NO")


@dataclass
class Row:
    benchmark: str
    measured: str
    ratio: str
    target: str
    met: str = ""


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Table:
    machine: list[tuple[str, str]]
    sections: list[Section]
    footer: str = ""

    HEADINGS = ("Benchmark", "Measured", "Ratio", "Target", "Met")

    def rows(self) -> list[Row]:
        return [row for section in self.sections for row in section.rows]

    def text(self) -> str:
        cells = [self.HEADINGS] + [
            (r.benchmark, r.measured, r.ratio, r.target, r.met) for r in self.rows()
        ]
        widths = [max(len(row[i]) for row in cells) for i in range(5)]

        def line(values) -> str:
            return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))

        out = [f"{key + ':':<20}{value}" for key, value in self.machine]
        out.append("")
        out.append(line(self.HEADINGS).rstrip())
        out.append("  ".join("-" * w for w in widths))
        for section in self.sections:
            out.append(f"[{section.title}]")
            for r in section.rows:
                out.append(
                    line((r.benchmark, r.measured, r.ratio, r.target, r.met)).rstrip()
                )
        if self.footer:
            out += ["", self.footer]
        return "\n".join(out)

    def markdown(self) -> str:
        out = ["| | |", "|---|---|"]
        out += [f"| {key} | {value} |" for key, value in self.machine]
        out += ["", "| " + " | ".join(self.HEADINGS) + " |", "|---|---|---|---|---|"]
        for section in self.sections:
            out.append(f"| **{section.title}** | | | | |")
            for r in section.rows:
                cells = (r.benchmark, r.measured, r.ratio, r.target, r.met)
                out.append(
                    "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
                )
        if self.footer:
            out += ["", self.footer]
        return "\n".join(out)


def _logins(results: dict[str, Any], tiny: bool) -> Section:
    plugin, axes = results["plugin"], results["axes"]
    hasher = (
        "MD5 hasher: --tiny, timings mean nothing"
        if tiny
        else ("Django's default PBKDF2 hasher")
    )
    section = Section(f"Login cost (SQLite, in process, {hasher})")
    cheaper = ratio(plugin["failed"], plugin["refused"])
    section.rows.append(
        Row(
            "refused vs failed login (plugin)",
            f"{duration(plugin['refused'])} vs {duration(plugin['failed'])}",
            f"{cheaper:.0f}× cheaper",
            f"≥ {REFUSED_TARGET:.0f}× cheaper",
            verdict(cheaper >= REFUSED_TARGET),
        )
    )
    if "lockout_check" in plugin:
        section.rows.append(
            Row(
                "lockout check vs password check, on their own",
                f"{duration(plugin['lockout_check'])} vs "
                f"{duration(plugin['password_check'])}",
                f"{ratio(plugin['password_check'], plugin['lockout_check']):.0f}× "
                "cheaper",
                "(for information)",
            )
        )
    for key, label, target in (
        ("failed", "failed login", True),
        ("successful", "successful login", True),
        ("refused", "refused login", False),
    ):
        overhead = ratio(plugin[key], axes[key]) - 1
        section.rows.append(
            Row(
                f"{label}: plugin vs plain django-axes",
                f"{duration(plugin[key])} vs {duration(axes[key])}",
                f"{overhead:+.1%}",
                f"< +{OVERHEAD_TARGET:.0%}" if target else "(for information)",
                verdict(overhead < OVERHEAD_TARGET) if target else "",
            )
        )
    return section


def _queries(results: dict[str, Any]) -> Section:
    section = Section(
        "SQL queries per request (no login limiting / plain django-axes / plugin)"
    )
    for key, label in QUERY_ROWS:
        counts = [results[site].get(key) for site in ("bare", "axes", "plugin")]
        shown = " / ".join("–" if c is None else str(c) for c in counts)
        bare, axes, plugin = counts
        base = bare if bare is not None else axes
        added = plugin - base
        if key in NOT_LOGINS:
            section.rows.append(
                Row(
                    label,
                    shown,
                    f"{added:+d} vs none",
                    "+0 (no query added)",
                    verdict(added == 0 and axes == bare),
                )
            )
        else:
            versus = f"{plugin - axes:+d} vs axes" if axes is not None else ""
            section.rows.append(Row(label, shown, versus, "(for information)"))
    return section


ATTACK_SITES = [
    ("plugin", "plugin"),
    ("plugin_redis", "plugin, counters in Redis"),
    ("axes", "plain django-axes"),
]


def _attack(results: dict[str, Any], label: str) -> Section:
    plugin, axes = results["plugin"], results.get("axes")
    section = Section(
        f"Distributed attack, {plugin['clients']:,} addresses, gunicorn, "
        f"{plugin['workers']} workers, side by side ({label})"
    )
    for key, name in ATTACK_SITES:
        data = results.get(key)
        if data is None:
            continue
        versus = ""
        if key != "axes" and axes:
            versus = (
                f"{ratio(data['refused_per_second'], axes['refused_per_second']):.2f}"
                "× axes"
            )
        section.rows.append(
            Row(
                f"refused requests per second: {name}",
                f"{data['refused_per_second']:.0f}/s "
                f"({data['requests']:,} requests in {data['seconds']:.0f} s)",
                versus,
                "every request refused",
                verdict(data["not_refused"] == 0 and data["requests"] > 0),
            )
        )
    return section


def _scale(data: dict[str, Any]) -> Section:
    small, large = data["small"]["counters"], data["large"]["counters"]
    section = Section(
        f"Stored rows: {small:,} vs {large:,} counters and failure-log rows, "
        f"{data['small']['lockouts']:,} vs {data['large']['lockouts']:,} lockouts "
        f"({data['vendor']})"
    )
    at_small, at_large = data["at_small"], data["at_large"]
    for key, label in SCALE_ROWS:
        slower = ratio(at_large[key], at_small[key])
        section.rows.append(
            Row(
                label,
                f"{duration(at_large[key])} vs {duration(at_small[key])}",
                f"{slower:.2f}×",
                f"< {SCALE_TARGET}×",
                verdict(slower < SCALE_TARGET),
            )
        )
    for key, label in REPORT_ROWS:
        slower = ratio(at_large[key], at_small[key])
        section.rows.append(
            Row(
                label,
                f"{duration(at_large[key])} vs {duration(at_small[key])}",
                f"{slower:.2f}×",
                f"< {REPORT_TARGET_SECONDS:.0f} s",
                verdict(at_large[key] < REPORT_TARGET_SECONDS),
            )
        )
    section.rows.append(
        Row(
            "time to insert the large set of rows",
            f"{data['fill_seconds']:.1f} s",
            "",
            "(for information)",
        )
    )
    return section


def _enumeration(results: dict[str, Any]) -> Section:
    low, high = ENUMERATION_BAND
    section = Section("Timing: existing vs non-existing username (plugin)")
    rows = [
        (f"refused login, lockout method {m}", f"refused_{m}") for m in METHOD_LABELS
    ]
    rows.append(("failed login (password checked)", "failed"))
    for label, key in rows:
        known, unknown = results[key]["known"], results[key]["unknown"]
        # The median of the ratios within each round (older results: of times).
        value = results[key].get("ratio") or ratio(known, unknown)
        section.rows.append(
            Row(
                label,
                f"{duration(known)} vs {duration(unknown)}",
                f"{value:.3f}",
                f"{low}–{high}",
                verdict(low <= value <= high),
            )
        )
    return section


def build_table(results: dict[str, Any], mode: dict[str, Any]) -> Table:
    sections = [
        _logins(results["logins"], tiny=results["mode"] == "tiny"),
        _queries(results["queries"]),
    ]
    for label in results["attack"]:
        sections.append(_attack(results["attack"][label], label))
    for vendor in results["scale"]:
        sections.append(_scale(results["scale"][vendor]))
    sections.append(_enumeration(results["enumeration"]))
    footer = (
        f"Mode: {results['mode']} (medians of {mode['repeat']}+ runs after warm-up). "
        f"Total time: {results['seconds'] / 60:.1f} min."
    )
    return Table(results["machine"], sections, footer)
