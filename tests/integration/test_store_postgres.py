"""The gateway on the shared store in PostgreSQL (docs/configuration.md [store],
docs/operations.md "Shared store"): nodes start on one real server and apply each schema
migration once; a server that cannot be reached, or a bad url, is a clear error, never a hang and
never a shown password."""
from __future__ import annotations

import subprocess

import pytest

from bhtest import Gateway, bridgehead_bin, free_port
from pghelp import PostgresServer


@pytest.fixture(scope="module")
def pg():
    with PostgresServer() as server:
        yield server


def store_toml(url: str, **extra) -> str:
    lines = ["", "[store]", 'backend = "postgresql"', f"url = {url!r}".replace("'", '"')]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def test_two_nodes_start_on_one_server_and_migrate_once(pg, tmp_path):
    url = pg.create_database("two_nodes")
    a = Gateway(tmp_path / "a", None, overrides={"extra_toml": store_toml(url)})
    b = Gateway(tmp_path / "b", None, overrides={"extra_toml": store_toml(url, pool_size=2)})
    try:
        a.start()
        b.start()
        rows = pg.psql("SELECT component || ':' || version FROM bh_schema_migrations "
                       "ORDER BY component, version", "two_nodes").split()
        assert "pending:1" in rows, rows
        assert len(rows) == len(set(rows)), rows
        # Both nodes are still up and use the one table of pending references.
        assert a.alive() and b.alive()
        assert pg.psql("SELECT COUNT(*) FROM pending", "two_nodes") == "0"
    finally:
        a.stop()
        b.stop()


def test_unreachable_server_fails_the_start_with_a_clear_message(tmp_path):
    port = free_port()  # nothing listens there
    url = f"postgresql://gw:s3cr3t-pw@127.0.0.1:{port}/bridgehead"
    gw = Gateway(tmp_path, None, overrides={"extra_toml": store_toml(url, connect_timeout=2)})
    gw.write_config()
    done = subprocess.run([str(bridgehead_bin()), "run", "-c", str(gw.config)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert f"postgresql host=127.0.0.1 port={port} dbname=bridgehead user=gw" in out, out
    assert "cannot connect" in out, out
    assert "s3cr3t" not in out, out


def test_check_config_names_the_line_of_a_bad_url(tmp_path):
    gw = Gateway(tmp_path, None, overrides={"extra_toml": store_toml("host=db1 colour=blue")})
    gw.write_config()
    done = subprocess.run([str(bridgehead_bin()), "check-config", "-c", str(gw.config)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    line = gw.config.read_text().splitlines().index('url = "host=db1 colour=blue"') + 1
    assert (f"{gw.config}:{line}: store.url: is not a libpq connection string: "
            f'invalid connection option "colour"') in done.stdout + done.stderr
