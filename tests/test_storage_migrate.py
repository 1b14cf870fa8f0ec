"""Versioned migrations: applied once, recorded with checksums, changed ones refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.cluster import ClusterConfig
from storage import migrate
from storage.errors import MigrationError
from storage.session import Database
from storage.store import Store

KEYSPACE = "gather_migrate_test"


def test_the_shipped_migrations_are_all_recorded(store: Store) -> None:
    rows = store.db.execute("SELECT version, name, checksum, applied_at FROM schema_migrations")
    recorded = {row["version"]: row for row in rows}
    for migration in migrate.shipped():
        assert recorded[migration.version]["checksum"] == migration.checksum
        assert recorded[migration.version]["applied_at"] is not None


def test_apply_is_idempotent_and_refuses_changed_or_missing_migrations(
    config: ClusterConfig, store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_first.cql").write_text(
        "-- a comment; with a semicolon\nCREATE TABLE IF NOT EXISTS t1 (k int PRIMARY KEY);\n"
    )
    said: list[str] = []
    with Database(config) as db:
        db.schema(f"DROP KEYSPACE IF EXISTS {KEYSPACE}")
        assert [m.name for m in migrate.apply(db, config, KEYSPACE, folder, said.append)] == [
            "first"
        ]
        assert any("created keyspace" in line for line in said)
        assert migrate.apply(db, config, KEYSPACE, folder, said.append) == []

        (folder / "0002_second.cql").write_text(
            "CREATE TABLE IF NOT EXISTS t2 (k int PRIMARY KEY);\n"
            "ALTER TABLE t2 ADD IF NOT EXISTS v text;\n"
        )
        assert [m.version for m in migrate.apply(db, config, KEYSPACE, folder, said.append)] == [2]
        db.execute("INSERT INTO t2 (k, v) VALUES (?, ?)", (1, "x"), op="write")

        (folder / "0001_first.cql").write_text(
            "CREATE TABLE IF NOT EXISTS t1 (k text PRIMARY KEY);"
        )
        with pytest.raises(MigrationError, match=r"0001_first\.cql changed"):
            migrate.apply(db, config, KEYSPACE, folder, said.append)

        shutil.rmtree(folder)
        folder.mkdir()
        with pytest.raises(MigrationError, match="0001_first was applied"):
            migrate.apply(db, config, KEYSPACE, folder, said.append)
        db.schema(f"DROP KEYSPACE IF EXISTS {KEYSPACE}")


def test_misnamed_and_duplicate_migration_files_are_errors(tmp_path: Path) -> None:
    (tmp_path / "1_bad.cql").write_text("")
    with pytest.raises(MigrationError, match="NNNN_"):
        migrate.shipped(tmp_path)
    (tmp_path / "1_bad.cql").unlink()
    (tmp_path / "0001_a.cql").write_text("")
    (tmp_path / "0001_b.cql").write_text("")
    with pytest.raises(MigrationError, match="version 1"):
        migrate.shipped(tmp_path)


def test_the_command_line_reports_an_up_to_date_schema(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert store.db.keyspace is not None
    assert migrate.main(["--keyspace", store.db.keyspace]) == 0
    assert "0 migration(s) applied" in capsys.readouterr().out
