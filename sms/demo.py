"""The SMS part of ``make run``: a stand-in for the provider on loopback, and a member's phone.

The demo cluster.yaml points ``sms.api_url`` at ``127.0.0.1:8095``; the launcher then starts
``serve``, the sandbox of :mod:`sms.sandbox` speaking the provider's messaging API with the
demo's credentials, which writes every text Gather sends to ``var/sms-sent.log``. To text the
site as a member would (a signed webhook request, as the provider makes it)::

    .venv/bin/python -m sms.demo text +15557010001 EVENTS
    .venv/bin/python -m sms.demo texts            # what Gather sent, newest last

Only for Twilio's signing (the demo's provider): a Telnyx webhook is signed with Telnyx's
private key, which nobody but Telnyx has.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

from config import cluster as cluster_config
from config.cluster import ClusterConfig, ConfigError, SmsConfig
from sms.sandbox import ProviderSandbox, SandboxText, twilio_webhook_request


def sent_log(config: ClusterConfig) -> Path:
    """Where the demo's sandbox writes the texts Gather sent."""
    return config.root / "var" / "sms-sent.log"


def is_demo(sms: SmsConfig | None) -> bool:
    """Whether cluster.yaml sends texts to a loopback sandbox (``make run``'s demo)."""
    return sms is not None and (urlsplit(sms.api_url).hostname or "").startswith("127.")


def serve(config: ClusterConfig) -> int:
    """Run the sandbox on ``sms.api_url``'s port until SIGTERM or Ctrl-C."""
    sms = _sms(config)
    secret = sms.secret.read().decode()
    log = sent_log(config)
    log.parent.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def write(text: SandboxText) -> None:
        line = json.dumps({"to": text.to, "from": text.sender, "body": text.body, "at": text.at})
        with lock, log.open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    sandbox = ProviderSandbox(
        port=urlsplit(sms.api_url).port or 80,
        twilio_account_sid=sms.account,
        twilio_auth_token=secret,
        telnyx_api_key=secret,
        on_text=write,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with sandbox:
        print(f"SMS sandbox on {sandbox.url}: texts Gather sends are written to {log}")
        stop.wait()
    return 0


def text(config: ClusterConfig, sender: str, body: str) -> int:
    """Text ``body`` from ``sender`` to the site's webhook; print the reply."""
    sms = _sms(config)
    if sms.provider != "twilio":
        print("sms.demo text signs webhooks as Twilio does; this cluster uses", sms.provider)
        return 1
    data, headers = twilio_webhook_request(
        sms.webhook_url, sms.secret.read().decode(), sender, sms.number, body
    )
    request = urllib.request.Request(sms.webhook_url, data, headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = response.read()
    except urllib.error.HTTPError as error:
        print(f"the webhook answered {error.code}: {error.read().decode(errors='replace')}")
        return 1
    except OSError as error:
        print(f"the webhook at {sms.webhook_url} did not answer: {error}")
        return 1
    reply = ET.fromstring(answer).find("Message")
    print(reply.text if reply is not None else "(no reply)")
    return 0


def texts(config: ClusterConfig) -> int:
    """Print the texts Gather sent through the demo's sandbox."""
    log = sent_log(config)
    if not log.exists():
        print(f"no texts sent yet ({log} does not exist)")
        return 0
    for line in log.read_text(encoding="utf-8").splitlines():
        sent = json.loads(line)
        print(f"to {sent['to']}: {sent['body']}")
    return 0


def _sms(config: ClusterConfig) -> SmsConfig:
    if config.sms is None:
        raise ConfigError("sms: cluster.yaml has no sms section")
    return config.sms


def main(argv: list[str] | None = None) -> int:
    """Command line: ``serve``, ``text NUMBER BODY...`` or ``texts``."""
    parser = argparse.ArgumentParser(prog="python -m sms.demo", description=__doc__)
    parser.add_argument("--config", help="path of cluster.yaml")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the provider sandbox (the launcher does)")
    texting = commands.add_parser("text", help="text the site as a member")
    texting.add_argument("sender", help="the member's number, e.g. +15557010001")
    texting.add_argument("body", nargs="+", help="the text")
    commands.add_parser("texts", help="the texts Gather sent")
    args = parser.parse_args(argv)
    try:
        config = cluster_config.load(args.config)
        if args.command == "serve":
            return serve(config)
        if args.command == "text":
            return text(config, args.sender, " ".join(args.body))
        return texts(config)
    except ConfigError as exc:
        print(f"sms.demo: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
