"""cluster.yaml: the committed default and the errors a bad file gets."""

from __future__ import annotations

import datetime
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
        (["mail"], _DELETE, "mail: missing; nodes ['hub'] have the mail role"),
        (["mail", "subject"], "Digest", "mail.subject: unknown key"),
        (["mail", "smtp", "tls"], True, "mail.smtp.tls: unknown key"),
        (["mail", "smtp", "host"], "smtp example.org", "mail.smtp.host: expected a host name"),
        (["mail", "smtp", "port"], 0, "mail.smtp.port: expected an integer from 1 to 65535"),
        (["mail", "smtp", "security"], "tls", "mail.smtp.security: expected one of ['starttls',"),
        (["mail", "send_at"], "7:5", "mail.send_at: '7:5' is not a 24-hour time"),
        (["mail", "send_at"], "25:00", "mail.send_at: '25:00' is not a 24-hour time"),
        (["mail", "send_at"], 750, "mail.send_at: expected text, got int 750"),  # 12:30 unquoted
        (["mail", "time_zone"], "Mars/Olympus", "mail.time_zone: 'Mars/Olympus' is not an IANA"),
        (["mail", "recipients"], [], "mail.recipients: expected a non-empty list"),
        (["mail", "recipients"], "staff@example.org", "mail.recipients: expected a non-empty"),
        (
            ["mail", "recipients"],
            ["staff@example.org", "office@example.org", "Staff@example.org"],
            "mail.recipients[2]: 'Staff@example.org' is already listed at [0]",
        ),
        (["mail", "recipients"], ["staff@example.org", "staff"], "mail.recipients[1]: expected"),
        (["mail", "sender"], "gather at example.org", "mail.sender: expected an e-mail address"),
        (["mail", "sender"], "gather@@example.org", "mail.sender: expected an e-mail address"),
        (["mail", "sender"], "a" * 243 + "@example.org", "mail.sender: expected an e-mail"),
        (["mail", "sender"], _DELETE, "mail.sender: missing"),
        (["mail", "password"], {"env": "GATHER_SMTP_PASSWORD"}, "mail.password: only with a user"),
        (["mail", "user"], "gather", "mail.password: missing; user 'gather' needs one"),
        (["mail", "send_empty"], "yes", "mail.send_empty: expected true or false"),
        (["mail", "timeout_s"], 0.5, "mail.timeout_s: expected a number from 1.0 to 300.0"),
        (["mail", "max_listed"], 0, "mail.max_listed: expected an integer from 1 to 1000"),
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


def _mail_document(**keys: object) -> dict:
    """The committed cluster.yaml with ``keys`` set in its ``mail`` section (``smtp`` merged)."""
    document = yaml.safe_load(cluster.DEFAULT_PATH.read_text())
    document["mail"]["smtp"] |= keys.pop("smtp", {})
    document["mail"] |= keys
    return document


def test_the_committed_default_has_the_demo_s_mail_section() -> None:
    mail = cluster.load().mail
    assert mail == cluster.MailConfig(
        smtp_host="127.0.0.1",
        smtp_port=8025,
        security="none",
        user=None,
        password=None,
        sender="gather@example.org",
        recipients=("staff@example.org",),
        send_at=datetime.time(7, 0),
        time_zone="Europe/London",
        send_empty=True,
        timeout_s=30.0,
        max_listed=50,
    )


def test_the_mail_time_zone_defaults_to_the_site_s(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    document = _mail_document()
    document["site"]["time_zone"] = "America/Chicago"
    path.write_text(yaml.safe_dump(document))
    mail = cluster.load(path).mail
    assert mail is not None and mail.time_zone == "America/Chicago"
    document["mail"]["time_zone"] = "Asia/Tokyo"
    path.write_text(yaml.safe_dump(document))
    mail = cluster.load(path).mail
    assert mail is not None and mail.time_zone == "Asia/Tokyo"


def test_a_mail_section_without_a_mail_node_is_optional_but_checked(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    document = _with(["mail"], _DELETE)
    document["nodes"]["hub"]["roles"] = ["web", "sms", "worker"]
    path.write_text(yaml.safe_dump(document))
    assert cluster.load(path).mail is None
    document = _with(["mail", "send_at"], "7:00")
    document["nodes"]["hub"]["roles"] = ["web", "sms", "worker"]
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=r"mail\.send_at: '7:00' is not"):
        cluster.load(path)


@pytest.mark.parametrize(
    ("smtp", "allowed"),
    [
        ({"host": "smtp.example.org", "security": "none"}, False),
        ({"host": "192.0.2.25", "security": "none"}, False),
        ({"host": "127.0.0.1", "security": "none"}, True),
        ({"host": "127.0.0.53", "security": "none"}, True),
        ({"host": "::1", "security": "none"}, True),
        ({"host": "localhost", "security": "none"}, True),
        ({"host": "smtp.example.org", "security": "starttls", "port": 587}, True),
        ({"host": "smtp.example.org", "security": "ssl", "port": 465}, True),
    ],
)
def test_a_password_crosses_the_network_only_encrypted(
    tmp_path: Path, smtp: dict[str, object], allowed: bool
) -> None:
    path = tmp_path / "cluster.yaml"
    password = {"env": "GATHER_SMTP_PASSWORD"}
    path.write_text(yaml.safe_dump(_mail_document(smtp=smtp, user="gather", password=password)))
    if allowed:
        mail = cluster.load(path).mail
        assert mail is not None and (mail.smtp_host, mail.user) == (smtp["host"], "gather")
    else:
        with pytest.raises(
            ConfigError, match=r"mail\.smtp\.security: none would send the password"
        ):
            cluster.load(path)
    # without a login there is no password to protect
    path.write_text(yaml.safe_dump(_mail_document(smtp=smtp)))
    assert cluster.load(path).mail is not None


def test_the_smtp_password_is_read_from_the_environment_or_the_file_and_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cluster.yaml"
    password = {"env": "GATHER_TEST_SMTP", "file": "var/smtp-password"}
    path.write_text(yaml.safe_dump(_mail_document(user="gather", password=password)))
    mail = cluster.load(path).mail
    assert mail is not None and mail.password is not None
    assert mail.password == cluster.SecretSource(
        env="GATHER_TEST_SMTP", file=tmp_path / "var" / "smtp-password", what="mail.password"
    )
    monkeypatch.delenv("GATHER_TEST_SMTP", raising=False)
    with pytest.raises(ConfigError, match=r"mail\.password: not found: set the environment"):
        mail.password.read()
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "smtp-password").write_text("pass-from-file\n")
    assert mail.password.read() == b"pass-from-file"
    monkeypatch.setenv("GATHER_TEST_SMTP", "pass-from-env")
    assert mail.password.read() == b"pass-from-env"
    assert "pass-from" not in repr(mail)


def test_optional_mail_settings_take_their_given_values(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    document = _mail_document(
        send_at="23:59", send_empty=False, timeout_s=5, max_listed=1000, smtp={"host": "::1"}
    )
    path.write_text(yaml.safe_dump(document))
    mail = cluster.load(path).mail
    assert mail is not None
    assert (mail.send_at, mail.send_empty, mail.timeout_s, mail.max_listed) == (
        datetime.time(23, 59),
        False,
        5.0,
        1000,
    )
    assert mail.smtp_host == "::1"
