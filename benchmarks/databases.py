"""Fresh, migrated databases for each measurement.

The schema is migrated once per database engine, with every app of the three
benchmarked sites installed (the plugin's site has them all; a site without the
plugin simply never touches its tables), and the benchmark's superuser is
created once. Each measurement then gets its own copy: a copied SQLite file, or
a PostgreSQL database created from the migrated one as a template.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmarks.servers import run_django

MIGRATE = """
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from benchmarks import site
site.ensure_admin()
"""
SCHEMA_SETTINGS = "benchmarks.settings.plugin"


class SQLiteDatabases:
    """SQLite files in a temporary directory."""

    vendor = "sqlite"

    def __init__(
        self,
        directory: Path,
        settings_module: str = SCHEMA_SETTINGS,
        prepare_code: str = MIGRATE,
    ) -> None:
        self.settings_module = settings_module
        self.prepare_code = prepare_code
        self.directory = directory
        self.template = directory / "template.sqlite3"
        self._numbers = itertools.count(1)
        self.version = ""

    def prepare(self) -> None:
        run_django(
            self.settings_module,
            {"DATABASE_URL": self.url(self.template)},
            self.prepare_code,
        )
        import sqlite3

        self.version = f"SQLite {sqlite3.sqlite_version}"

    @staticmethod
    def url(path: Path) -> str:
        return f"sqlite:///{path}"

    def fresh(self) -> str:
        path = self.directory / f"db{next(self._numbers)}.sqlite3"
        shutil.copyfile(self.template, path)
        return self.url(path)

    def close(self) -> None:
        pass


class PostgresDatabases:
    """Databases on a PostgreSQL server reached with `admin_url` (a role that
    may create databases). `prepare_code` runs once, in the template."""

    vendor = "postgresql"

    def __init__(
        self,
        admin_url: str,
        settings_module: str = SCHEMA_SETTINGS,
        prepare_code: str = MIGRATE,
    ) -> None:
        self.admin_url = admin_url
        self.settings_module = settings_module
        self.prepare_code = prepare_code
        self.prefix = f"loginlimit_bench_{os.getpid()}_{secrets.token_hex(3)}"
        self.template = f"{self.prefix}_template"
        self.created: list[str] = []
        self._numbers = itertools.count(1)
        self.version = ""

    def url(self, name: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql)

    def _server_version(self) -> str:
        import psycopg

        with psycopg.connect(self.admin_url) as connection:
            return connection.execute("SHOW server_version").fetchone()[0]

    def _create(self, name: str, template: str | None = None) -> None:
        clause = f" TEMPLATE {template}" if template else ""
        self._execute(f'CREATE DATABASE "{name}"{clause}')
        self.created.append(name)

    def prepare(self) -> None:
        self._create(self.template)
        run_django(
            self.settings_module,
            {"DATABASE_URL": self.url(self.template)},
            self.prepare_code,
        )
        self.version = f"PostgreSQL {self._server_version()}"

    def fresh(self) -> str:
        name = f"{self.prefix}_{next(self._numbers)}"
        self._create(name, self.template)
        return self.url(name)

    def close(self) -> None:
        for name in reversed(self.created):
            try:
                self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception:  # noqa: BLE001, S112 - best effort on the way out
                continue
        self.created.clear()
