"""The sign-up rules every frontend shares: listing events, signing up, looking up,
cancelling and promoting, for the website, the kiosk and the SMS webhook alike.

A frontend names who asks with a :class:`Client` and translates the
:mod:`storage.errors` the rules raise into its own answers, in the words :func:`explain`
gives every frontend alike::

    from signups import Client, explain, sign_up
    from storage.errors import Refused, Unreachable

    try:
        result = sign_up(store, Client.kiosk("kiosk-1"), option_id, "Ada", "+15551234567")
    except Refused as refused:      # full, closed, already signed up, a field that is wrong
        show_refusal(explain(refused))
    except Unreachable:             # Cassandra out of reach: keep the form, try again
        show_try_again()
    else:
        show_code(result.registration.ref)
"""

from signups.client import Channel, Client
from signups.rules import (
    Details,
    Upcoming,
    cancel,
    details,
    event_with_options,
    look_up,
    new_key,
    promote,
    send_code_again,
    sign_up,
    signing_up,
    upcoming,
    upcoming_with_options,
    waitlist_position,
)
from signups.wording import EVENT_CANCELLED, explain, seats

__all__ = [
    "EVENT_CANCELLED",
    "Channel",
    "Client",
    "Details",
    "Upcoming",
    "cancel",
    "details",
    "event_with_options",
    "explain",
    "look_up",
    "new_key",
    "promote",
    "seats",
    "send_code_again",
    "sign_up",
    "signing_up",
    "upcoming",
    "upcoming_with_options",
    "waitlist_position",
]
