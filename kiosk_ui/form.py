"""A member's sign-up at the kiosk, from the option they chose to the answer, as data.

The sign-up screens show and change one :class:`SignupForm`: the name, the phone number or
e-mail, the party size, in that order, then a review and one Confirm. :meth:`SignupForm.confirm`
signs up through the shared rules (:func:`signups.sign_up`, channel ``kiosk``, the kiosk's
node name as the client) with the form's own idempotency key, made when the form was: a
Confirm tapped twice, or tried again after "please try again", signs up once.

Its outcome is a :class:`Signed` (show the reference code) or a :class:`Refusal` (the
sentence to show, :func:`signups.explain`; the field to go back to, if one is wrong; whether
trying again may help). Nothing is logged: a form holds a member's name and contact, and
:meth:`SignupForm.forget` drops them (the idle reset, Cancel, the next member).

Not thread-safe: one form belongs to the UI's thread. ``confirm`` blocks on Cassandra (up
to the ``signup`` class's timeout), so the UI calls it off its drawing loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

import signups
from signups import Client
from storage.errors import NotConnected, Refused, Unreachable, ValidationError
from storage.registrations import MAX_PARTY_SIZE, Registration
from storage.store import Store

Step = Literal["name", "contact", "party", "review"]
STEPS: tuple[Step, ...] = ("name", "contact", "party", "review")
FIELD_STEPS: dict[str, Step] = {"name": "name", "contact": "contact", "party_size": "party"}
"""The step that edits each field a :class:`ValidationError` can name."""


@dataclass(frozen=True)
class Signed:
    """The sign-up is made (or was, by this form's earlier Confirm)."""

    registration: Registration


@dataclass(frozen=True)
class Refusal:
    """The sign-up was not made: ``words`` for the member; ``step`` to go back to when one
    field is wrong; ``retry`` when trying again may help (Cassandra out of reach)."""

    words: str
    step: Step | None = None
    retry: bool = False


@dataclass
class SignupForm:
    """One member's sign-up for ``option_id`` of ``event_id``, being filled in."""

    event_id: UUID
    option_id: UUID
    name: str = ""
    contact: str = ""
    party_size: int = 1
    step: Step = "name"
    key: str = field(default_factory=signups.new_key)

    def go_to(self, step: Step) -> None:
        """Show ``step`` (the screens' Back and Next)."""
        self.step = step

    def next_step(self) -> None:
        """The step after this one (the review is the last)."""
        self.step = STEPS[min(STEPS.index(self.step) + 1, len(STEPS) - 1)]

    def change_party(self, by: int) -> None:
        """The stepper: one more or one fewer, from 1 to the largest party."""
        self.party_size = min(MAX_PARTY_SIZE, max(1, self.party_size + by))

    def confirm(self, store: Store | None, node: str) -> Signed | Refusal:
        """Sign up as the form says, from kiosk ``node`` (``store`` None: the node is not
        connected to Cassandra, a refusal to try again)."""
        try:
            if store is None:
                raise NotConnected(f"kiosk {node} is not connected to Cassandra")
            result = signups.sign_up(
                store,
                Client.kiosk(node),
                self.option_id,
                self.name,
                self.contact,
                self.party_size,
                key=self.key,
                event_id=self.event_id,
            )
        except ValidationError as wrong:
            return Refusal(signups.explain(wrong), step=FIELD_STEPS.get(wrong.field))
        except Refused as refused:
            return Refusal(signups.explain(refused))
        except Unreachable as unreachable:
            return Refusal(signups.explain(unreachable), retry=True)
        return Signed(result.registration)  # other errors are faults: the UI actor crashes

    def forget(self) -> None:
        """Drop everything the member typed (the key too: the next member's is new)."""
        self.name = self.contact = ""
        self.party_size = 1
        self.step = "name"
        self.key = signups.new_key()
