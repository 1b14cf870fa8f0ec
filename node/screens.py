"""Pictures of a kiosk's screen, asked for over the node link (the shell's ``screen``, the
management UI's cluster page).

Ask :data:`KIOSK_UI` on a kiosk node with a :class:`ScreenRequest`; the answer is a
:class:`ScreenImage`. The kiosk scales and compresses the picture until it is at most
``max_bytes`` (keep that well under the link's ``max_frame_kb``), and masks its sign-up
screens, so that no member's name or contact leaves the kiosk.
"""

from __future__ import annotations

from node import wire

KIOSK_UI = "root/kiosk/ui"
"""The kiosk UI actor's path, on every node with the kiosk role."""

DEFAULT_MAX_BYTES = 512 * 1024
"""What a picture is squeezed into unless the asker says otherwise."""


@wire.message("screen_request")
class ScreenRequest:
    """A picture of the screen, at most ``max_bytes`` long."""

    max_bytes: int = DEFAULT_MAX_BYTES


@wire.message("screen_image")
class ScreenImage:
    """The screen as it was at ``taken_at`` (seconds since the epoch).

    ``screen`` names what was shown (``welcome``, ``event``, ``signup``, ``result``,
    ``still-there``); ``masked`` says the member's part of it was blanked out.
    """

    node: str
    screen: str
    masked: bool
    width: int
    height: int
    content_type: str
    data: bytes
    taken_at: float


@wire.message("screen_tap")
class Tap:
    """A touch at ``(x, y)``, fractions (0..1) of the window, as SDL reports a finger: the
    kiosk posts it as a real finger event (and its synthesised mouse twin). For operators
    and tests driving a kiosk from afar."""

    x: float
    y: float


@wire.message("screen_tap_button")
class TapButton:
    """A touch in the middle of the button labelled ``label`` on the screen now shown; the
    answer is that screen's name."""

    label: str
