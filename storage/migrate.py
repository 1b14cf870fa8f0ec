"""Versioned CQL migrations: ``python -m storage.migrate`` brings the schema up to date.

Files ``storage/migrations/NNNN_name.cql`` are applied in version order, each recorded in the
keyspace's ``schema_migrations`` table (version, name, checksum, applied_at); applied ones are
skipped, so running the tool again is harmless. A migration that was applied and has since
changed, or disappeared, is an error: ship a new migration instead. The keyspace is created
with cluster.yaml's replication (and altered to it when cluster.yaml changes). Every DDL
statement waits for schema agreement before the next one runs.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from config import cluster as cluster_config
from config.cluster import ClusterConfig, ConfigError
from storage import times
from storage.errors import MigrationError, StorageError
from storage.session import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.cql$")


@dataclass(frozen=True)
class Migration:
    """One shipped migration file."""

    version: int
    name: str
    path: Path
    checksum: str

    def statements(self) -> list[str]:
        """The file's CQL statements (``--`` comment lines dropped, split on ``;``)."""
        lines = [
            line
            for line in self.path.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("--")
        ]
        return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def shipped(folder: Path = MIGRATIONS) -> list[Migration]:
    """The migrations in ``folder``, by version; a misnamed or duplicate file is an error."""
    found: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.cql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_lower_case_name.cql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path}: version {version} is also {found[version].path.name}")
        found[version] = Migration(
            version=version,
            name=match.group(2),
            path=path,
            checksum=hashlib.sha256(path.read_bytes()).hexdigest(),
        )
    return [found[version] for version in sorted(found)]


def apply(
    db: Database,
    config: ClusterConfig,
    keyspace: str | None = None,
    folder: Path = MIGRATIONS,
    say: Callable[[str], None] = print,
) -> list[Migration]:
    """Create the keyspace if needed, apply every pending migration, return those applied.

    Leaves ``db`` using the keyspace.
    """
    keyspace = keyspace or config.cassandra.keyspace
    migrations = shipped(folder)
    _ensure_keyspace(db, config, keyspace, say)
    db.schema(
        f"CREATE TABLE IF NOT EXISTS {keyspace}.schema_migrations ("
        "version int PRIMARY KEY, name text, checksum text, applied_at timestamp)"
    )
    db.set_keyspace(keyspace)
    recorded = {
        row["version"]: row
        for row in db.execute("SELECT version, name, checksum FROM schema_migrations", op="read")
    }
    by_version = {migration.version: migration for migration in migrations}
    for version, row in sorted(recorded.items()):
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"migration {version:04d}_{row['name']} was applied to {keyspace} but is no "
                f"longer in {folder}"
            )
        if migration.checksum != row["checksum"]:
            raise MigrationError(
                f"{migration.path.name} changed after it was applied to {keyspace} "
                f"(checksum {row['checksum'][:12]}... now {migration.checksum[:12]}...): "
                "restore it and put the change in a new migration"
            )
    applied = []
    for migration in migrations:
        if migration.version in recorded:
            continue
        for statement in migration.statements():
            db.schema(statement)
        db.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
            "VALUES (?, ?, ?, ?)",
            (migration.version, migration.name, migration.checksum, times.now()),
            op="write",
        )
        say(f"applied {migration.path.name} to {keyspace}")
        applied.append(migration)
    return applied


def _ensure_keyspace(
    db: Database, config: ClusterConfig, keyspace: str, say: Callable[[str], None]
) -> None:
    cassandra = config.cassandra
    factor = cassandra.replication_factor
    if cassandra.replication_strategy == "SimpleStrategy":
        wanted = {"class": "SimpleStrategy", "replication_factor": str(factor)}
    else:
        datacenters = sorted({host.datacenter for host in db.hosts() if host.datacenter})
        wanted = {"class": "NetworkTopologyStrategy"} | {dc: str(factor) for dc in datacenters}
    replication = "{" + ", ".join(f"'{key}': '{value}'" for key, value in wanted.items()) + "}"
    rows = db.execute(
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", (keyspace,)
    )
    if not rows:
        db.schema(f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {replication}")
        say(f"created keyspace {keyspace} with replication {replication}")
        return
    current = dict(rows[0]["replication"])
    current["class"] = current["class"].rsplit(".", 1)[-1]
    if current != wanted:
        db.schema(f"ALTER KEYSPACE {keyspace} WITH replication = {replication}")
        say(
            f"altered keyspace {keyspace} replication to {replication}; "
            "run a full repair (nodetool repair) so existing data follows"
        )


def main(argv: list[str] | None = None) -> int:
    """Command line: apply pending migrations to cluster.yaml's keyspace (or --keyspace)."""
    parser = argparse.ArgumentParser(prog="python -m storage.migrate", description=__doc__)
    parser.add_argument("--config", help="path of cluster.yaml (default: the repository's)")
    parser.add_argument("--keyspace", help="keyspace to migrate (default: cluster.yaml's)")
    args = parser.parse_args(argv)
    try:
        config = cluster_config.load(args.config)
        with Database(config) as db:
            applied = apply(db, config, args.keyspace)
    except (ConfigError, StorageError) as exc:
        print(f"storage.migrate: {exc}", file=sys.stderr)
        return 1
    keyspace = args.keyspace or config.cassandra.keyspace
    print(f"{keyspace}: {len(applied)} migration(s) applied, schema up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
