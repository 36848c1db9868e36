"""`db backup` and `db restore` on PostgreSQL, through pg_dump, pg_restore and psql: a dump
readable by its owner only, the password passed in the environment (never in a command line
others can list), and a restore that replaces the whole schema in one transaction (a restore
that fails leaves the database as it was; an older backup leaves no newer table behind)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class PgToolFailed(Exception):
    pass


def _target(url: str) -> tuple[str, dict[str, str], str]:
    """The URL without its password, the environment holding it, and the URL to show."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    bare = parsed.set(password=None).render_as_string(hide_password=False)
    return bare, env, parsed.render_as_string(hide_password=True)


def dump(url: str, path: Path) -> str:
    bare, env, shown = _target(url)
    command = ["pg_dump", "--format=custom", "--no-owner", f"--file={path}", f"--dbname={bare}"]
    if shutil.which("pg_dump") is None:
        return f"pg_dump is not installed here; run: {' '.join(command[:-1])} --dbname={shown}"
    if path.exists():
        raise PgToolFailed(f"{path} exists already: give a new file")
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # pg_dump keeps it
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        path.unlink(missing_ok=True)
        raise PgToolFailed(f"pg_dump failed: {_first(done.stderr)}")
    return f"ran: {' '.join(command[:-1])} --dbname={shown} (mode 0600)"


def restore(url: str, path: Path) -> str:
    bare, env, shown = _target(url)
    read = ["pg_restore", "--no-owner", "--no-privileges", "--file=-", str(path)]
    load = [
        "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
        "-c", "DROP SCHEMA public CASCADE", "-c", "CREATE SCHEMA public", "-f", "-", bare,
    ]  # fmt: skip
    if shutil.which("pg_restore") is None or shutil.which("psql") is None:
        return f"pg_restore or psql is not installed here; run: {' '.join(read)} | " + " ".join(
            [*load[:-1], shown]
        )
    with subprocess.Popen(read, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as source:
        loaded = subprocess.run(
            load, stdin=source.stdout, capture_output=True, text=True, env=env, check=False
        )
        _, read_errors = source.communicate()
    if source.returncode != 0:
        raise PgToolFailed(f"pg_restore failed: {_first(read_errors.decode(errors='replace'))}")
    if loaded.returncode != 0:
        raise PgToolFailed(f"the restore failed, nothing changed: {_first(loaded.stderr)}")
    return f"restored {path} into {shown} (the schema replaced whole, in one transaction)"


def _first(text: str) -> str:
    return (text.strip().splitlines() or ["failed"])[0]
