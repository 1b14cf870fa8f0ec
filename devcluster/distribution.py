"""The Cassandra server's jars, fetched from Maven Central with ``mvn``, and the Java to run them.

The version is the one ``devcluster/server/pom.xml`` names. Jars land in the git-ignored
``.cache/cassandra-<version>/lib``; a completed fetch is marked by a stamp file, so the
second call costs nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devcluster.errors import LocalClusterError

SERVER = Path(__file__).resolve().parent / "server"
"""What running a Cassandra server needs: pom.xml (the jars), the templates of cassandra.yaml and
logback.xml, and the JVM flags."""
REPO_ROOT = SERVER.parents[1]
POM = SERVER / "pom.xml"
CACHE = REPO_ROOT / ".cache"
JAVA_CANDIDATES = (
    Path("/usr/lib/jvm/java-17-openjdk-amd64"),
    Path("/usr/lib/jvm/java-17-openjdk-arm64"),
    Path("/usr/lib/jvm/temurin-17-jdk-amd64"),
)


@dataclass(frozen=True)
class Distribution:
    """A runnable Cassandra: its version, the folder of jars and the Java 17 home."""

    version: str
    lib: Path
    java_home: Path

    @property
    def java(self) -> Path:
        return self.java_home / "bin" / "java"

    @property
    def classpath(self) -> str:
        return os.pathsep.join(str(jar) for jar in sorted(self.lib.glob("*.jar")))


def cassandra_version() -> str:
    """The Cassandra version pinned in devcluster/server/pom.xml."""
    match = re.search(r"<cassandra\.version>([^<]+)</cassandra\.version>", POM.read_text())
    if not match:
        raise LocalClusterError(f"{POM}: no <cassandra.version> property")
    return match.group(1).strip()


def ensure() -> Distribution:
    """Return the distribution, fetching the jars first if they are not cached yet."""
    java_home = find_java17()
    version = cassandra_version()
    target = CACHE / f"cassandra-{version}"
    lib = target / "lib"
    stamp = target / ".complete"
    if not stamp.exists():
        _fetch(version, target, java_home)
        stamp.write_text(version + "\n")
    return Distribution(version=version, lib=lib, java_home=java_home)


def find_java17() -> Path:
    """Locate a Java 17 home (JAVA_HOME first), or fail saying what was found instead."""
    candidates = [Path(os.environ["JAVA_HOME"])] if os.environ.get("JAVA_HOME") else []
    candidates += list(JAVA_CANDIDATES)
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path).resolve().parent.parent)
    seen: list[str] = []
    for home in candidates:
        java = home / "bin" / "java"
        if not java.exists():
            continue
        version = _java_version(java)
        if version.startswith("17"):
            return home
        seen.append(f"{java} is Java {version}")
    found = "; ".join(seen) if seen else "no java found"
    raise LocalClusterError(
        f"Cassandra 5.0 needs Java 17 ({found}). Install it with "
        "'apt-get install openjdk-17-jdk-headless' or point JAVA_HOME at a Java 17."
    )


def _java_version(java: Path) -> str:
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "([^"]+)"', out.stderr + out.stdout)
    return match.group(1) if match else "unknown"


def _fetch(version: str, target: Path, java_home: Path) -> None:
    mvn = shutil.which("mvn")
    if not mvn:
        raise LocalClusterError(
            "Maven ('mvn') is needed to fetch Cassandra from Maven Central: "
            "install it with 'apt-get install maven'."
        )
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    print(f"Fetching Cassandra {version} and its dependencies from Maven Central ...", flush=True)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={partial / 'lib'}",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "JAVA_HOME": str(java_home)},
        check=False,
    )
    if result.returncode != 0 or not (partial / "lib" / f"cassandra-all-{version}.jar").exists():
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
        raise LocalClusterError(f"mvn could not fetch cassandra-all {version}:\n{tail}")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
