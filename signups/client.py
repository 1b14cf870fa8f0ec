"""Who is asking: the channel a request came by and the client it is counted against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Channel = Literal["kiosk", "web", "sms"]


@dataclass(frozen=True)
class Client:
    """The asker, as the sign-up rules see it: its ``channel`` (stored with each sign-up) and
    its ``identity``, what its failed guesses are counted against.

    An identity must be something the asker cannot change at will:

    - web: the client's network (an IPv4 address, an IPv6 /64), through trusted proxies;
    - sms: the sender's phone number (every text arrives from the provider's addresses);
    - kiosk: the kiosk's node name (every member at that kiosk shares it).
    """

    channel: Channel
    identity: str

    @classmethod
    def web(cls, network: str) -> Client:
        """A website or API client on ``network``."""
        return cls("web", network)

    @classmethod
    def sms(cls, sender: str) -> Client:
        """A text from the phone number ``sender``."""
        return cls("sms", sender)

    @classmethod
    def kiosk(cls, node: str) -> Client:
        """The kiosk node ``node``."""
        return cls("kiosk", node)

    @property
    def throttle_key(self) -> str:
        """The key its failed guesses are counted under."""
        return f"{self.channel}:{self.identity}"
