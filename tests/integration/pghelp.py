"""A real PostgreSQL server for integration tests (the shared store of several nodes), started
and stopped by tests/support/postgres-server, the script the unit tests' ctest fixture uses.

    with PostgresServer() as pg:
        url = pg.create_database("two_nodes")   # a fresh database, its libpq connection string
        ... [store] backend = "postgresql", url = url ...
        pg.stop(); pg.start()                   # an outage: same data, same port

The server listens only on 127.0.0.1 (a free port); its folder is made directly under /tmp so
that the `postgres` user (the server refuses to run as root) can reach it. No PostgreSQL
installed: start() raises, so the test fails instead of skipping.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "support" / "postgres-server"


class PostgresServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bh-pg-", dir="/tmp"))
        self.url = ""  # the server's own database ("bridgehead"), once started

    def _run(self, command: str) -> str:
        done = subprocess.run([str(SCRIPT), command, str(self.dir)], capture_output=True,
                              text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"postgres-server {command} failed ({done.returncode}): "
                               f"{done.stdout}{done.stderr}")
        return done.stdout.strip()

    def start(self) -> str:
        """Starts the server (initialised on first start) and returns its connection string."""
        self.url = self._run("start")
        return self.url

    def stop(self) -> None:
        """Stops the server; the data and the port stay for the next start()."""
        self._run("stop")

    def remove(self) -> None:
        self._run("remove")
        shutil.rmtree(self.dir, ignore_errors=True)

    def psql(self, sql: str, database: str = "bridgehead") -> str:
        """Runs SQL with psql (unaligned, tuples only) and returns its output."""
        done = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                               "-d", self.connection_string(database), "-c", sql],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def connection_string(self, database: str) -> str:
        if not self.url:
            raise RuntimeError("the PostgreSQL server is not started")
        keep = [part for part in self.url.split() if not part.startswith("dbname=")]
        return " ".join(keep + [f"dbname={database}"])

    def create_database(self, name: str) -> str:
        """A fresh database (name: letters, digits, '_') and its connection string."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a plain database name: {name!r}")
        self.psql(f"CREATE DATABASE {name}", database="postgres")
        return self.connection_string(name)

    def __enter__(self) -> "PostgresServer":
        try:
            self.start()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.remove()
