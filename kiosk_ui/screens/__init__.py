"""The kiosk's screens: Welcome, Event, Sign-up, Result, and the "still there?" prompt.

A screen is an object holding only what it shows (the page of events, the form being filled
in). Each frame, the app (:mod:`kiosk_ui.app`) has it draw itself on a fresh
:class:`~kiosk_ui.canvas.Canvas`, whose buttons carry their actions; a press runs the action
of the button under it. A screen changes the kiosk through the :class:`Kiosk` it is drawn
for: another screen, Confirm, the large-text mode.

Screens and the canvas belong to the UI's thread.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from config.cluster import SiteConfig
    from kiosk_ui.canvas import Canvas
    from kiosk_ui.catalog import Catalog
    from kiosk_ui.form import SignupForm


class Kiosk(Protocol):
    """What a screen may ask of the kiosk it is on."""

    @property
    def catalog(self) -> Catalog:
        """The events, welcome text and settings the kiosk shows now."""
        ...

    @property
    def site(self) -> SiteConfig: ...

    @property
    def sms_number(self) -> str | None:
        """The site's SMS number as members here dial it; None when the site has no SMS."""
        ...

    @property
    def large(self) -> bool:
        """The large-text, high-contrast mode is on."""
        ...

    @property
    def confirming(self) -> bool:
        """A Confirm is being saved."""
        ...

    def show(self, screen: Screen) -> None:
        """Go to ``screen``."""

    def home(self) -> None:
        """Back to Welcome, forgetting everything typed."""

    def confirm(self, form: SignupForm) -> None:
        """Save ``form`` (off the UI's thread); the outcome shows when it is known."""

    def toggle_large(self) -> None:
        """Switch the large-text, high-contrast mode on or off."""

    def registration_url(self, ref: str) -> str:
        """The public address of registration ``ref``'s page (for its QR code)."""
        ...


class Screen(ABC):
    """One screen; subclasses draw it."""

    name: ClassVar[str]
    """What a picture of the kiosk says it shows."""
    masked: bool = False
    """Pictures of it leave the kiosk blanked: it shows what a member typed or their code."""
    timeout_s: ClassVar[float | None] = None
    """Back to Welcome after this long without a press (the result screen); None: after
    the kiosk's idle timeout and the "still there?" prompt."""
    ticking: ClassVar[bool] = False
    """It shows a countdown: redrawn every second, not only when something changes."""

    @abstractmethod
    def draw(self, canvas: Canvas, kiosk: Kiosk) -> None:
        """Draw this screen and its buttons."""

    def events(self) -> tuple[UUID, ...]:
        """The events whose seats this screen shows (refreshed while it is up)."""
        return ()

    def forget(self) -> None:  # noqa: B027 - most screens hold nothing typed: a default
        """Drop anything a member typed (going back to Welcome)."""
