"""cluster.yaml: the committed default and the errors a bad file gets."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config import cluster
from config.cluster import ConfigError

DEFAULT = yaml.safe_load(cluster.DEFAULT_PATH.read_text())


def test_the_committed_default_describes_one_machine() -> None:
    config = cluster.load()
    assert config.cassandra.replication_factor == 3
    assert config.cassandra.consistency["write"].level == "QUORUM"
    assert config.cassandra.consistency["signup"].level == "QUORUM"
    assert config.cassandra.consistency["signup"].serial == "SERIAL"
    assert {"hub", "kiosk-1"} <= set(config.nodes)
    assert set(config.nodes["hub"].roles) == {"web", "sms", "mail", "worker"}


def _with(path: list[str], value: object) -> dict:
    document = yaml.safe_load(cluster.DEFAULT_PATH.read_text())
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ["cassandra", "consistency", "write", "level"],
            "QUORM",
            "cassandra.consistency.write.level",
        ),
        (
            ["cassandra", "consistency", "signup", "serial"],
            "ONE",
            "cassandra.consistency.signup.serial",
        ),
        (["cassandra", "keyspace", "replication", "factor"], 0, "replication.factor"),
        (["cassandra", "keyspace", "replication", "strategy"], "Simple", "replication.strategy"),
        (["cassandra", "contact_points"], ["not-an-ip"], "cassandra.contact_points[0]"),
        (["cassandra", "port"], "9042", "cassandra.port"),
        (["cassandra", "colour"], "blue", "cassandra.colour: unknown key"),
        (["nodes", "hub", "roles"], ["web", "chef"], "nodes.hub.roles"),
        (["nodes", "kiosk-1", "port"], 7410, "already used by hub"),
        (["nodes", "Bad Name"], {"host": "127.0.0.1", "port": 7500, "roles": []}, "nodes.Bad Name"),
        (["nodes", "hub", "trusted_proxies"], ["10.0.0.300"], "nodes.hub.trusted_proxies"),
        (["nodes", "hub", "trusted_proxies"], "10.0.0.7", "nodes.hub.trusted_proxies"),
        (["nodes", "hub", "trusted_proxies"], ["10.0.0.7/8"], "has host bits set"),
        (["nodes", "hub", "trusted_proxies"], ["::/0"], "would trust every client"),
        (["nodes", "kiosk-1", "trusted_proxies"], ["10.0.0.7"], "only nodes with the web role"),
        (["cookie"], {}, "cookie"),
        (["cookie", "secret"], "hunter2", "cookie.secret: unknown key"),
        (["sms"], _DELETE, "nodes ['hub'] have the sms role"),
        (["sms", "provider"], "vonage", "sms.provider: expected one of ['twilio', 'telnyx']"),
        (["sms", "number"], "555-0100", "sms.number: '555-0100' is not an E.164 number"),
        (["sms", "webhook_url"], "example.org/sms", "sms.webhook_url"),
        (["sms", "account"], _DELETE, "sms.account: Twilio needs the Account SID"),
        (["sms", "secret"], {}, "sms.secret: expected at least one of 'env' or 'file'"),
        (["sms", "secret", "token"], "hunter2", "sms.secret.token: unknown key"),
        (["sms", "provider_opt_outs"], "yes", "sms.provider_opt_outs: expected true or false"),
        (["sms", "rate_limit", "messages"], 0, "sms.rate_limit.messages"),
        (["sms", "conversation_ttl_s"], 5, "sms.conversation_ttl_s"),
        (["nodes", "hub", "sms_port"], _DELETE, "nodes.hub.sms_port: missing"),
        (["nodes", "hub", "sms_port"], 8080, "port, http_port and sms_port must differ"),
        (["nodes", "kiosk-1", "sms_port"], 8091, "only nodes with the sms role take texts"),
    ],
)
def test_a_bad_key_is_named_with_the_expected_form(
    tmp_path: Path, path: list[str], value: object, message: str
) -> None:
    bad = tmp_path / "cluster.yaml"
    bad.write_text(yaml.safe_dump(_with(path, value)))
    with pytest.raises(ConfigError) as error:
        cluster.load(bad)
    assert message in str(error.value)
    assert str(bad) in str(error.value)


@pytest.mark.parametrize("text", ["", "just text", "cassandra: [1, 2", "- a\n- b\n"])
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    bad = tmp_path / "cluster.yaml"
    bad.write_text(text)
    with pytest.raises(ConfigError):
        cluster.load(bad)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        cluster.load(tmp_path / "nope.yaml")


def test_the_cookie_comes_from_the_environment_first_then_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = cluster.CookieSource(env="GATHER_TEST_COOKIE", file=tmp_path / "cookie")
    monkeypatch.delenv("GATHER_TEST_COOKIE", raising=False)
    with pytest.raises(ConfigError, match="no cluster cookie"):
        source.read()
    source.ensure_file()
    assert (tmp_path / "cookie").stat().st_mode & 0o777 == 0o600
    from_file = source.read()
    assert len(from_file) == 64
    monkeypatch.setenv("GATHER_TEST_COOKIE", "e" * 40)
    assert source.read() == b"e" * 40
    monkeypatch.setenv("GATHER_TEST_COOKIE", "short")
    with pytest.raises(ConfigError, match="5 bytes; at least 32"):
        source.read()


def test_telnyx_needs_its_public_key(tmp_path: Path) -> None:
    bad = tmp_path / "cluster.yaml"
    bad.write_text(yaml.safe_dump(_with(["sms", "provider"], "telnyx")))
    with pytest.raises(ConfigError, match=r"sms\.public_key: Telnyx needs"):
        cluster.load(bad)


def test_the_sms_secret_is_read_from_the_environment_or_the_file_and_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = cluster.SecretSource(env="GATHER_TEST_SMS", file=tmp_path / "s", what="sms.secret")
    monkeypatch.delenv("GATHER_TEST_SMS", raising=False)
    with pytest.raises(ConfigError, match=r"sms\.secret: not found: set the environment"):
        source.read()
    (tmp_path / "s").write_text("token-from-file\n")
    assert source.read() == b"token-from-file"
    monkeypatch.setenv("GATHER_TEST_SMS", "token-from-env")
    assert source.read() == b"token-from-env"
    assert "token" not in repr(cluster.load().sms)


def test_the_local_section_is_left_to_devcluster(tmp_path: Path) -> None:
    """A production cluster.yaml has no ``cassandra.local``; a development one may have any."""
    for local in (_DELETE, {"nodes": 40, "colour": "blue"}):
        path = tmp_path / "cluster.yaml"
        path.write_text(yaml.safe_dump(_with(["cassandra", "local"], local)))
        assert cluster.load(path).cassandra.port == 9042


def test_the_cluster_manager_reports_a_bad_config_and_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "cluster.yaml"
    bad.write_text(yaml.safe_dump(_with(["cassandra", "local", "nodes"], 40)))
    result = subprocess.run(
        [sys.executable, "-m", "devcluster", "--config", str(bad), "status"],
        capture_output=True,
        text=True,
        cwd=cluster.DEFAULT_PATH.parent,
        check=False,
    )
    assert result.returncode == 1
    assert f"{bad}: cassandra.local.nodes: expected an integer from 1 to 9, got 40" in result.stderr


def test_trusted_proxies_are_networks(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(
        yaml.safe_dump(_with(["nodes", "hub", "trusted_proxies"], ["10.0.0.7", "fd00::/64"]))
    )
    assert cluster.load(path).nodes["hub"].trusted_proxies == ("10.0.0.7/32", "fd00::/64")
    assert cluster.load().nodes["hub"].trusted_proxies == ()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("public_url", "example.org", "site.public_url: 'example.org' is not an http(s) URL"),
        ("time_zone", "Mars/Olympus", "site.time_zone: 'Mars/Olympus' is not an IANA time zone"),
        ("phone_region", "XX", "site.phone_region: 'XX' is not a region code"),
    ],
)
def test_site_settings_are_checked(tmp_path: Path, key: str, value: str, expected: str) -> None:
    document = yaml.safe_load(cluster.DEFAULT_PATH.read_text())
    document["site"][key] = value
    bad = tmp_path / "cluster.yaml"
    bad.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=re.escape(expected)):
        cluster.load(bad)
