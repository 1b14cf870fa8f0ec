"""Loading and validating ``cluster.yaml``, the one description of a Gather cluster.

``load(path)`` returns a frozen :class:`ClusterConfig` or raises :class:`ConfigError` whose
message names the offending key (as a dotted path) and the form that was expected. Nothing
else in Gather reads the file: every part takes what it needs from the returned object. The
one section Gather leaves alone, ``cassandra.local``, belongs to the development cluster
(``devcluster``), which parses it with :func:`read` and :class:`Section`.

The schema is documented in the file's own comments and in ``docs/cluster-yaml.md``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, Literal, TypeVar, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import yaml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "cluster.yaml"

OPERATION_CLASSES = ("read", "write", "signup", "report")
CONSISTENCY_LEVELS = (
    "ANY",
    "ONE",
    "TWO",
    "THREE",
    "QUORUM",
    "ALL",
    "LOCAL_QUORUM",
    "EACH_QUORUM",
    "LOCAL_ONE",
)
SERIAL_LEVELS = ("SERIAL", "LOCAL_SERIAL")
REPLICATION_STRATEGIES = ("SimpleStrategy", "NetworkTopologyStrategy")
ROLES = ("kiosk", "web", "sms", "mail", "worker")
SMS_PROVIDERS = ("twilio", "telnyx")
MAIL_SECURITY = ("starttls", "ssl", "none")
MAIL_TIMEOUT_S = 30.0
MAIL_MAX_LISTED = 50
REMIND_AT = time(9, 0)
"""When members' reminders are owed on the day before an event, by default."""
REPORTS_RUN_AT = time(2, 0)
"""When the nightly reports run, on the site's clock, by default: off hours, kiosks idle."""
REPORT_WORKERS = 2
"""Report workers per worker node by default: while one waits on Cassandra for its next
page, the other has the process's GIL for its rows (docs/reports.md)."""
MAX_ADDRESS_LENGTH = 254
MIN_COOKIE_BYTES = 32
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,47}$")
_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_MAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
T = TypeVar("T")


class ConfigError(ValueError):
    """cluster.yaml is missing, unreadable or does not match the schema."""


@dataclass(frozen=True)
class Consistency:
    """How one operation class talks to Cassandra."""

    level: str
    timeout_s: float
    serial: str | None = None


@dataclass(frozen=True)
class CassandraConfig:
    """Driver contact points, keyspace and the consistency of each operation class."""

    contact_points: tuple[str, ...]
    port: int
    keyspace: str
    replication_strategy: str
    replication_factor: int
    consistency: Mapping[str, Consistency]


@dataclass(frozen=True)
class NodeConfig:
    """One Gather node: where it listens and which roles it plays."""

    name: str
    host: str
    port: int
    roles: tuple[str, ...]
    http_port: int | None = None
    """Where the website listens (nodes with the ``web`` role)."""
    sms_port: int | None = None
    """Where the SMS webhook listens (nodes with the ``sms`` role), apart from the website."""
    trusted_proxies: tuple[str, ...] = ()
    """Networks of the reverse proxies in front of the website (web nodes): a request from one
    of them is taken to come from the address and over the scheme it forwards."""


@dataclass(frozen=True)
class LinkConfig:
    """The node link: heartbeats, frame limit and optional TLS (paths already resolved)."""

    heartbeat_s: float
    down_after_s: float
    max_frame_bytes: int
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    tls_cafile: Path | None = None

    @property
    def tls(self) -> bool:
        return self.tls_certfile is not None


@dataclass(frozen=True)
class SiteConfig:
    """The community's site, as every frontend names it to members (``site`` in cluster.yaml)."""

    name: str
    """The community's name (page titles, texts, e-mails)."""
    public_url: str
    """Where members reach the website, without a trailing slash (links, QR codes)."""
    time_zone: str
    """The IANA zone the site lives in (the default of new events, the digest's clock)."""
    phone_region: str
    """Region (ISO 3166-1 alpha-2, e.g. ``GB``) of phone numbers written without ``+``."""
    contact: str
    """Whom members are told to reach (SMS HELP, the kiosk, error pages)."""


@dataclass(frozen=True)
class WebConfig:
    """Limits of every web server (``web`` in cluster.yaml)."""

    idle_timeout_s: float
    """A kept-alive connection with no request for this long is closed."""
    body_timeout_s: float
    """A request body not received in full within this long is refused and its connection
    closed (a slow sender holds nothing for long)."""
    max_connections: int
    """Open connections per web server; one more is closed at once."""


@dataclass(frozen=True)
class SecretSource:
    """Where a secret comes from: an environment variable (checked first) or a file. The
    value itself is never in cluster.yaml, and never in a log or an error message.

    ``what`` names it in errors (``cookie``, ``sms.secret``).
    """

    env: str | None
    file: Path | None
    what: str = "secret"

    def read(self) -> bytes:
        """The secret (surrounding white space removed); :class:`ConfigError` when absent."""
        value, _ = self._found()
        return value

    def _found(self) -> tuple[bytes, str]:
        """The secret and where it was found."""
        if self.env and os.environ.get(self.env):
            return os.environ[self.env].strip().encode(), f"the environment variable {self.env}"
        if self.file and self.file.is_file():
            value = self.file.read_bytes().strip()
            if value:
                return value, f"the file {self.file}"
        raise ConfigError(
            f"{self.what}: not found: set the environment variable {self.env or '-'} "
            f"or write it to the file {self.file or '-'}"
        )

    def ensure_file(self) -> Path:
        """Create the file with a random value (mode 0600) if it does not exist."""
        if self.file is None:
            raise ConfigError(f"{self.what}.file: not configured, cannot create it")
        if not self.file.exists():
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
        return self.file


@dataclass(frozen=True)
class CookieSource(SecretSource):
    """Where the cluster cookie comes from."""

    what: str = "cookie"

    def read(self) -> bytes:
        """Return the cookie, from the environment variable first, then the file.

        A cookie shorter than ``MIN_COOKIE_BYTES`` is refused: the handshake's proofs would
        let anyone who reaches a node's port guess a short one offline.
        """
        try:
            value, where = self._found()
        except ConfigError:
            raise ConfigError(
                f"cookie: no cluster cookie found: set the environment variable "
                f"{self.env or '-'} or write it to the file {self.file or '-'}"
            ) from None
        if len(value) < MIN_COOKIE_BYTES:
            raise ConfigError(
                f"cookie: the cookie in {where} is {len(value)} bytes; at least "
                f"{MIN_COOKIE_BYTES} are needed (make one with: openssl rand -hex 32)"
            )
        return value


@dataclass(frozen=True)
class SmsConfig:
    """The SMS role's provider and conversation settings (``sms`` in cluster.yaml)."""

    provider: str
    """``twilio`` or ``telnyx``."""
    webhook_url: str
    """The webhook's public URL exactly as the provider is configured to call it (what its
    signatures are computed over), e.g. ``https://example.org/sms/twilio``."""
    number: str
    """The site's own number (E.164): the sender of every text Gather sends."""
    api_url: str
    """The provider's REST API (``https://api.twilio.com``, ``https://api.telnyx.com``)."""
    account: str | None
    """Twilio: the Account SID. Telnyx: the messaging profile id (optional)."""
    public_key: str | None
    """Telnyx: the account's Ed25519 public key (base64) that webhooks are signed with."""
    secret: SecretSource
    """Twilio: the Auth Token. Telnyx: the API key."""
    provider_opt_outs: bool
    """The provider handles STOP/START itself (replies, blocks sends): Gather records them
    and sends no second confirmation."""
    rate_limit: int
    """Messages one number may send per ``rate_period_s``; more are stored, not answered."""
    rate_period_s: float
    conversation_ttl_s: int
    """How long an unanswered question (which option, what name) waits for its answer."""


@dataclass(frozen=True)
class MailConfig:
    """The mail role's SMTP server and daily digest to staff (``mail`` in cluster.yaml)."""

    smtp_host: str
    """The SMTP server: a host name, or an IP address (kept in its normal form)."""
    smtp_port: int
    security: str
    """``starttls`` (upgrade a plain connection), ``ssl`` (TLS from the start) or ``none``."""
    user: str | None
    """Who logs in to the SMTP server; None: no login."""
    password: SecretSource | None
    """The SMTP password, exactly when ``user`` is set."""
    sender: str
    """The digest's From address."""
    recipients: tuple[str, ...]
    """Whom the digest goes to: at least one address, none twice."""
    send_at: time
    """When the digest is sent each day, on the clock of ``time_zone``."""
    time_zone: str
    """The IANA zone of ``send_at`` (by default the site's)."""
    send_empty: bool
    """A period with nothing new sends a short "nothing new" note (true) or nothing (false)."""
    timeout_s: float
    """How long one SMTP exchange (connecting, each command) may take."""
    max_listed: int
    """Messages that need a person listed in full in one digest; more are counted only."""
    remind_at: time = REMIND_AT
    """When members' reminders are owed on the day before an event, on the event's clock."""


@dataclass(frozen=True)
class ReportsConfig:
    """Reports over the worker nodes (``reports`` in cluster.yaml; every key optional)."""

    nightly: bool = True
    """Whether the worker nodes run every report each night."""
    run_at: time = REPORTS_RUN_AT
    """When the nightly run starts, on the site's clock (claimed once across the nodes)."""
    workers_per_node: int = REPORT_WORKERS
    """Report worker actors on each node with the ``worker`` role."""
    splits_per_worker: int = 8
    """Token ranges per worker actor in use: small ones spread the work evenly and make a
    range that must be scanned again (its worker died) cheap."""
    page_rows: int = 1000
    """Rows per page of a range's scan."""


@dataclass(frozen=True)
class ClusterConfig:
    """The whole of cluster.yaml, validated."""

    path: Path
    name: str
    cookie: CookieSource
    cassandra: CassandraConfig
    link: LinkConfig
    nodes: Mapping[str, NodeConfig]
    site: SiteConfig
    web: WebConfig
    sms: SmsConfig | None = None
    """None when no node has the sms role and the section is absent."""
    mail: MailConfig | None = None
    """None when no node has the mail role and the section is absent."""
    reports: ReportsConfig = ReportsConfig()

    @property
    def root(self) -> Path:
        """Folder holding cluster.yaml; relative paths in it are resolved against it."""
        return self.path.parent


def load(path: str | os.PathLike[str] | None = None) -> ClusterConfig:
    """Read and validate cluster.yaml (by default $GATHER_CLUSTER_YAML, else the repository's)."""
    resolved = Path(path or os.environ.get("GATHER_CLUSTER_YAML") or DEFAULT_PATH).resolve()
    return read(resolved, lambda top: _parse(resolved, top))


def read(path: Path, parse: Callable[[Section], T]) -> T:
    """Run ``parse`` on the YAML document at ``path``; a :class:`ConfigError` names the file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    try:
        return parse(Section(raw, ""))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _parse(path: Path, top: Section) -> ClusterConfig:
    top.only(
        "cluster_name",
        "cookie",
        "cassandra",
        "link",
        "nodes",
        "site",
        "web",
        "sms",
        "mail",
        "reports",
    )
    name = top.text("cluster_name", pattern=_NAME, form="lower-case name like 'gather'")

    env, file = _secret(path.parent, top.section("cookie"))
    cookie = CookieSource(env=env, file=file)

    nodes_section = top.section("nodes")
    nodes = {key: _parse_node(key, nodes_section.section(key)) for key in nodes_section.names()}
    if not nodes:
        raise ConfigError("nodes: expected at least one Gather node")
    seen: dict[tuple[str, int], str] = {}
    for node in nodes.values():
        other = seen.setdefault((node.host, node.port), node.name)
        if other != node.name:
            raise ConfigError(
                f"nodes.{node.name}.port: {node.host}:{node.port} is already used by {other}"
            )

    site = _parse_site(top.section("site"))
    return ClusterConfig(
        path=path,
        name=name,
        cookie=cookie,
        cassandra=_parse_cassandra(top.section("cassandra")),
        link=_parse_link(path.parent, top.section("link")),
        nodes=nodes,
        site=site,
        web=_parse_web(top.section("web")),
        sms=_parse_sms(path.parent, top, nodes),
        mail=_parse_mail(path.parent, top, nodes, site),
        reports=_parse_reports(top),
    )


def _secret(root: Path, section: Section) -> tuple[str | None, Path | None]:
    """A secret's ``env`` and ``file`` (resolved against ``root``); at least one is needed."""
    section.only("env", "file")
    env = section.text("env", required=False, pattern=_ENV, form="an environment variable name")
    file = section.text("file", required=False)
    if env is None and file is None:
        raise ConfigError(f"{section.path}: expected at least one of 'env' or 'file'")
    return env, (root / file) if file else None


def _role_section(top: Section, nodes: Mapping[str, NodeConfig], role: str) -> Section | None:
    """The section a role's nodes need (named as the role); None when it is absent and no
    node has the role."""
    if top.value(role, required=False) is None:
        with_role = [node.name for node in nodes.values() if role in node.roles]
        if with_role:
            raise ConfigError(f"{role}: missing; nodes {with_role} have the {role} role")
        return None
    return top.section(role)


def _parse_sms(root: Path, top: Section, nodes: Mapping[str, NodeConfig]) -> SmsConfig | None:
    section = _role_section(top, nodes, "sms")
    if section is None:
        return None
    section.only(
        "provider",
        "webhook_url",
        "number",
        "api_url",
        "account",
        "public_key",
        "secret",
        "provider_opt_outs",
        "rate_limit",
        "conversation_ttl_s",
    )
    provider = section.choice("provider", SMS_PROVIDERS)
    number = section.text("number")
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        raise ConfigError(f"{section.where('number')}: {number!r} is not an E.164 number")
    account = section.text("account", required=False)
    public_key = section.text("public_key", required=False)
    if provider == "twilio" and account is None:
        raise ConfigError(f"{section.where('account')}: Twilio needs the Account SID")
    if provider == "telnyx" and public_key is None:
        raise ConfigError(f"{section.where('public_key')}: Telnyx needs its webhook public key")
    limit = section.section("rate_limit")
    limit.only("messages", "per_s")
    env, file = _secret(root, section.section("secret"))
    url = "an http(s) URL like 'https://example.org/sms/twilio'"
    return SmsConfig(
        provider=provider,
        webhook_url=section.text("webhook_url", pattern=_URL, form=url),
        number=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        api_url=section.text("api_url", pattern=_URL, form=url).rstrip("/"),
        account=account,
        public_key=public_key,
        secret=SecretSource(env=env, file=file, what="sms.secret"),
        provider_opt_outs=section.boolean("provider_opt_outs"),
        rate_limit=limit.integer("messages", 1, 10_000),
        rate_period_s=limit.number("per_s", 1.0, 86_400.0),
        conversation_ttl_s=section.integer("conversation_ttl_s", 60, 86_400),
    )


def _parse_mail(
    root: Path, top: Section, nodes: Mapping[str, NodeConfig], site: SiteConfig
) -> MailConfig | None:
    section = _role_section(top, nodes, "mail")
    if section is None:
        return None
    section.only(
        "smtp",
        "user",
        "password",
        "sender",
        "recipients",
        "send_at",
        "time_zone",
        "send_empty",
        "timeout_s",
        "max_listed",
        "remind_at",
    )
    smtp = section.section("smtp")
    smtp.only("host", "port", "security")
    host = _host(smtp.text("host"), smtp.where("host"))
    security = smtp.choice("security", MAIL_SECURITY)
    user = section.text("user", required=False)
    password = None
    if section.value("password", required=False) is not None:
        if user is None:
            raise ConfigError(f"{section.where('password')}: only with a user to log in as")
        env, file = _secret(root, section.section("password"))
        password = SecretSource(env=env, file=file, what="mail.password")
    elif user is not None:
        raise ConfigError(f"{section.where('password')}: missing; user {user!r} needs one")
    if user is not None and security == "none" and not _loopback(host):
        raise ConfigError(
            f"{smtp.where('security')}: none would send the password to {host} in clear; "
            "use starttls or ssl (none is for a loopback server only)"
        )
    recipients = section.value("recipients")
    if not isinstance(recipients, list) or not recipients:
        raise ConfigError(
            f"{section.where('recipients')}: expected a non-empty list of e-mail addresses"
        )
    addresses = tuple(
        _mail_address(recipient, f"{section.where('recipients')}[{i}]")
        for i, recipient in enumerate(recipients)
    )
    listed: dict[str, int] = {}
    for i, address in enumerate(addresses):
        first = listed.setdefault(address.lower(), i)
        if first != i:
            raise ConfigError(
                f"{section.where('recipients')}[{i}]: {address!r} is already listed at [{first}]"
            )
    clock = 'a 24-hour time "HH:MM" like "07:00"'
    send_at = section.text("send_at", pattern=_CLOCK, form=clock)
    remind_at = section.text("remind_at", False, pattern=_CLOCK, form=clock)
    zone = site.time_zone
    if section.value("time_zone", required=False) is not None:
        zone = _time_zone(section)
    return MailConfig(
        smtp_host=host,
        smtp_port=smtp.integer("port", 1, 65535),
        security=security,
        user=user,
        password=password,
        sender=_mail_address(section.value("sender"), section.where("sender")),
        recipients=addresses,
        send_at=time.fromisoformat(send_at),
        time_zone=zone,
        send_empty=section.boolean("send_empty"),
        timeout_s=section.number("timeout_s", 1.0, 300.0, default=MAIL_TIMEOUT_S),
        max_listed=section.integer("max_listed", 1, 1000, default=MAIL_MAX_LISTED),
        remind_at=REMIND_AT if remind_at is None else time.fromisoformat(remind_at),
    )


def _mail_address(value: Any, where: str) -> str:
    """``value`` when it is an e-mail address: one ``@`` with text either side, no white
    space, at most ``MAX_ADDRESS_LENGTH`` characters (the rest is the SMTP server's to judge)."""
    if (
        not isinstance(value, str)
        or len(value) > MAX_ADDRESS_LENGTH
        or not _MAIL_ADDRESS.match(value)
    ):
        raise ConfigError(
            f"{where}: expected an e-mail address like 'staff@example.org', got {value!r}"
        )
    return value


def _host(value: str, where: str) -> str:
    """``value`` when it is a host name, or the normal form of an IP address."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if not _HOST_NAME.match(value):
        raise ConfigError(f"{where}: expected a host name or an IP address, got {value!r}")
    return value


def _loopback(host: str) -> bool:
    """``host`` is ``localhost`` or a loopback address: what is sent to it stays on the machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _time_zone(section: Section) -> str:
    """The IANA zone at ``time_zone``, checked against the zone database."""
    zone = section.text("time_zone")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{section.where('time_zone')}: {zone!r} is not an IANA time zone such as Europe/London"
        ) from None
    return zone


def _parse_site(section: Section) -> SiteConfig:
    section.only("name", "public_url", "time_zone", "phone_region", "contact")
    url = section.text("public_url", pattern=_URL, form="an http(s) URL like 'https://example.org'")
    zone = _time_zone(section)
    region = section.text("phone_region")
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(
            f"{section.where('phone_region')}: {region!r} is not a region code such as GB or US"
        )
    return SiteConfig(
        name=section.text("name"),
        public_url=url.rstrip("/"),
        time_zone=zone,
        phone_region=region,
        contact=section.text("contact"),
    )


def _parse_reports(top: Section) -> ReportsConfig:
    if top.value("reports", required=False) is None:
        return ReportsConfig()
    section = top.section("reports")
    section.only("nightly", "run_at", "workers_per_node", "splits_per_worker", "page_rows")
    defaults = ReportsConfig()
    run_at = section.text("run_at", False, pattern=_CLOCK, form='a 24-hour time like "02:00"')
    nightly = section.value("nightly", required=False)
    return ReportsConfig(
        nightly=True if nightly is None else section.boolean("nightly"),
        run_at=defaults.run_at if run_at is None else time.fromisoformat(run_at),
        workers_per_node=section.integer(
            "workers_per_node", 1, 16, default=defaults.workers_per_node
        ),
        splits_per_worker=section.integer(
            "splits_per_worker", 1, 256, default=defaults.splits_per_worker
        ),
        page_rows=section.integer("page_rows", 10, 100_000, default=defaults.page_rows),
    )


def _parse_web(section: Section) -> WebConfig:
    section.only("idle_timeout_s", "body_timeout_s", "max_connections")
    return WebConfig(
        idle_timeout_s=section.number("idle_timeout_s", 1.0, 3600.0),
        body_timeout_s=section.number("body_timeout_s", 1.0, 3600.0),
        max_connections=section.integer("max_connections", 1, 1_000_000),
    )


def _parse_cassandra(section: Section) -> CassandraConfig:
    # "local" holds the development cluster's settings: allowed here, parsed by devcluster.
    section.only("contact_points", "port", "local", "keyspace", "consistency")
    points = section.value("contact_points")
    if not isinstance(points, list) or not points:
        raise ConfigError(
            f"{section.where('contact_points')}: expected a non-empty list of IP addresses"
        )
    contact_points = tuple(
        _address(p, f"{section.where('contact_points')}[{i}]") for i, p in enumerate(points)
    )

    keyspace = section.section("keyspace")
    keyspace.only("name", "replication")
    replication = keyspace.section("replication")
    replication.only("strategy", "factor")

    consistency = section.section("consistency")
    consistency.only(*OPERATION_CLASSES)
    levels = {op: _parse_consistency(op, consistency.section(op)) for op in OPERATION_CLASSES}

    return CassandraConfig(
        contact_points=contact_points,
        port=section.integer("port", 1, 65535),
        keyspace=keyspace.text("name", pattern=_IDENTIFIER, form="a CQL identifier like 'gather'"),
        replication_strategy=replication.choice("strategy", REPLICATION_STRATEGIES),
        replication_factor=replication.integer("factor", 1, 9),
        consistency=levels,
    )


def _parse_link(root: Path, section: Section) -> LinkConfig:
    section.only("heartbeat_s", "down_after_s", "max_frame_kb", "tls")
    heartbeat = section.number("heartbeat_s", 0.05, 60.0)
    down_after = section.number("down_after_s", 0.1, 600.0)
    if down_after <= heartbeat:
        raise ConfigError(f"{section.where('down_after_s')}: must be longer than heartbeat_s")
    files: dict[str, Path | None] = {"certfile": None, "keyfile": None, "cafile": None}
    if section.value("tls", required=False) is not None:
        tls = section.section("tls")
        tls.only(*files)
        for key in files:
            file = root / str(tls.text(key))
            if not file.is_file():
                raise ConfigError(f"{tls.where(key)}: {file} is not a file")
            files[key] = file
    return LinkConfig(
        heartbeat_s=heartbeat,
        down_after_s=down_after,
        max_frame_bytes=section.integer("max_frame_kb", 1, 1024 * 1024) * 1024,
        tls_certfile=files["certfile"],
        tls_keyfile=files["keyfile"],
        tls_cafile=files["cafile"],
    )


def _parse_consistency(op: str, section: Section) -> Consistency:
    allowed = ("level", "timeout_s", "serial") if op == "signup" else ("level", "timeout_s")
    section.only(*allowed)
    return Consistency(
        level=section.choice("level", CONSISTENCY_LEVELS),
        timeout_s=section.number("timeout_s", 0.1, 600.0),
        serial=section.choice("serial", SERIAL_LEVELS) if op == "signup" else None,
    )


def _parse_node(name: str, section: Section) -> NodeConfig:
    if not _NAME.match(str(name)):
        raise ConfigError(
            f"nodes.{name}: node names are lower-case letters, digits, '-' and '_' "
            "(at most 48), starting with a letter"
        )
    section.only("host", "port", "roles", "http_port", "sms_port", "trusted_proxies")
    roles = section.value("roles")
    if not isinstance(roles, list) or not all(r in ROLES for r in roles):
        raise ConfigError(f"{section.where('roles')}: expected a list of roles among {list(ROLES)}")
    if len(set(roles)) != len(roles):
        raise ConfigError(f"{section.where('roles')}: a role is listed twice")
    http_port = None
    if "web" in roles:
        http_port = section.integer("http_port", 1024, 65535)
    else:
        for key in ("http_port", "trusted_proxies"):
            if section.value(key, required=False) is not None:
                raise ConfigError(f"{section.where(key)}: only nodes with the web role serve HTTP")
    sms_port = None
    if "sms" in roles:
        sms_port = section.integer("sms_port", 1024, 65535)
    elif section.value("sms_port", required=False) is not None:
        raise ConfigError(f"{section.where('sms_port')}: only nodes with the sms role take texts")
    port = section.integer("port", 1024, 65535)
    used = [p for p in (port, http_port, sms_port) if p is not None]
    if len(set(used)) != len(used):
        raise ConfigError(f"nodes.{name}: port, http_port and sms_port must differ")
    return NodeConfig(
        name=name,
        host=_address(section.value("host"), section.where("host")),
        port=port,
        roles=tuple(roles),
        http_port=http_port,
        sms_port=sms_port,
        trusted_proxies=_networks(section, "trusted_proxies"),
    )


def _networks(section: Section, key: str) -> tuple[str, ...]:
    value = section.value(key, required=False)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{section.where(key)}: expected a list of IP addresses or networks")
    try:
        networks = tuple(ipaddress.ip_network(str(item)) for item in value)
    except ValueError as exc:  # such as 10.0.0.7/8: host bits set, probably a typo
        raise ConfigError(f"{section.where(key)}: {exc}") from None
    if any(network.prefixlen == 0 for network in networks):
        raise ConfigError(f"{section.where(key)}: a /0 network would trust every client")
    return tuple(map(str, networks))


def _address(value: Any, where: str) -> str:
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise ConfigError(f"{where}: expected an IP address, got {value!r}") from None


class Section:
    """A mapping in the YAML document, with typed accessors that name the key on error."""

    def __init__(self, raw: Any, prefix: str) -> None:
        if not isinstance(raw, dict):
            raise ConfigError(f"{prefix or 'document'}: expected a mapping, got {_kind(raw)}")
        self._raw = raw
        self._prefix = prefix

    @property
    def path(self) -> str:
        """The section's own dotted path in the document."""
        return self._prefix or "document"

    def where(self, key: str) -> str:
        return f"{self._prefix}.{key}" if self._prefix else key

    def names(self) -> list[str]:
        return [str(k) for k in self._raw]

    def only(self, *allowed: str) -> None:
        for key in self._raw:
            if key not in allowed:
                raise ConfigError(f"{self.where(str(key))}: unknown key; expected one of {allowed}")

    def value(self, key: str, required: bool = True) -> Any:
        if key not in self._raw or self._raw[key] is None:
            if required:
                raise ConfigError(f"{self.where(key)}: missing")
            return None
        return self._raw[key]

    def section(self, key: str) -> Section:
        return Section(self.value(key), self.where(key))

    @overload
    def text(
        self,
        key: str,
        required: Literal[True] = True,
        pattern: re.Pattern[str] | None = None,
        form: str = "",
    ) -> str: ...

    @overload
    def text(
        self,
        key: str,
        required: bool,
        pattern: re.Pattern[str] | None = None,
        form: str = "",
    ) -> str | None: ...

    def text(
        self,
        key: str,
        required: bool = True,
        pattern: re.Pattern[str] | None = None,
        form: str = "",
    ) -> str | None:
        """The text at ``key`` (matching ``pattern`` when given; ``form`` describes it in the
        error); None when absent and not ``required``."""
        value = self.value(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{self.where(key)}: expected text, got {_kind(value)}")
        if pattern and not pattern.match(value):
            raise ConfigError(
                f"{self.where(key)}: {value!r} is not {form or 'of the form ' + pattern.pattern}"
            )
        return value

    def integer(self, key: str, low: int, high: int, default: int | None = None) -> int:
        """The integer at ``key``, from ``low`` to ``high``; ``default`` when given and absent."""
        value = self.value(key, required=default is None)
        if value is None and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                f"{self.where(key)}: expected an integer from {low} to {high}, got {value!r}"
            )
        return value

    def number(self, key: str, low: float, high: float, default: float | None = None) -> float:
        """The number at ``key``, from ``low`` to ``high``; ``default`` when given and absent."""
        value = self.value(key, required=default is None)
        if value is None and default is not None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise ConfigError(
                f"{self.where(key)}: expected a number from {low} to {high}, got {value!r}"
            )
        return float(value)

    def boolean(self, key: str) -> bool:
        value = self.value(key)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.where(key)}: expected true or false, got {value!r}")
        return value

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self.value(key)
        if value not in options:
            raise ConfigError(f"{self.where(key)}: expected one of {list(options)}, got {value!r}")
        return value


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"
