"""The kiosk's screens driven by posted finger events, with real Pygame (SDL's dummy video
driver) and the real Cassandra cluster: sign-ups from Welcome to Result, refusals, the idle
reset, the large-text mode and the layout at every supported size. Frames of every screen
are saved under var/kiosk-frames/ (screen-*.png) to be looked at."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import UUID

import pygame
import pytest

import signups
from config.cluster import ClusterConfig
from kiosk_ui.app import KioskApp
from kiosk_ui.canvas import Canvas
from kiosk_ui.screens.parts import as_dialled
from kiosk_ui.screens.result import ResultScreen
from kiosk_ui.screens.signup import SignupScreen
from kiosk_ui.screens.still_there import COUNTDOWN_S
from kiosk_ui.screens.welcome import WelcomeScreen
from kiosk_ui.theme import MIN_TARGET_PX, SCREEN_SIZES
from signups import Client
from storage import times
from storage.store import Store
from tests.helpers import (
    KIOSK,
    KIOSK_COOKIE,
    KIOSK_FRAMES,
    kiosk_content,
    make_event,
    new_phone,
    wait_until,
)

os.environ["SDL_VIDEODRIVER"] = "dummy"


@dataclass
class Clock:
    """The app's clock, moved by the test (the idle rules read it)."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


class Driver:
    """A kiosk app on a real (dummy-driver) window, tapped as a finger would."""

    def __init__(self, app: KioskApp, clock: Clock) -> None:
        self.app = app
        self.clock = clock
        self.step()

    def step(self) -> None:
        self.app.post_taps()
        self.app.step(pygame.event.get())

    @property
    def screen(self) -> str:
        return str(self.app.view()["screen"])

    def labels(self) -> list[str]:
        return [button[0] for button in self.app.view()["buttons"]]

    def tap(self, label: str) -> None:
        """Tap the last-drawn button labelled ``label`` (a finger and its mouse twin)."""
        self.app.tap_button(label)
        self.step()

    def type(self, text: str) -> None:
        for char in text:
            self.tap("Space" if char == " " else char.upper())

    def texts(self) -> list[str]:
        canvas = Canvas(self.app.window, self.app.theme, self.app.content.images)
        self.app.screen.draw(canvas, self.app)
        return canvas.texts

    def until(self, screen: str) -> None:
        def there() -> bool:
            self.step()
            return self.screen == screen

        wait_until(there, what=f"the {screen} screen")

    def answered(self) -> None:
        """Step until the Confirm in flight has its answer."""

        def done() -> bool:
            self.step()
            return not self.app.confirming

        wait_until(done, what="the Confirm's answer")

    def showing(self, text: str) -> None:
        """Step until ``text`` is drawn (seat counts refresh in the background)."""

        def drawn() -> bool:
            self.step()
            return text in self.texts()

        wait_until(drawn, what=f"{text!r} on the screen")

    def save(self, name: str) -> None:
        KIOSK_FRAMES.mkdir(parents=True, exist_ok=True)
        self.step()
        pygame.image.save(self.app.window, str(KIOSK_FRAMES / f"screen-{name}.png"))


@pytest.fixture
def window() -> Iterator[pygame.Surface]:
    pygame.display.init()
    try:
        yield pygame.display.set_mode((1920, 1080))
    finally:
        pygame.display.quit()


@contextmanager
def driven(
    store: Store,
    config: ClusterConfig,
    window: pygame.Surface,
    event_ids: list[UUID],
    **kiosk: object,
) -> Iterator[Driver]:
    """A kiosk showing ``event_ids`` (configured with ``kiosk``'s settings) on ``window``."""
    store.kiosks.put(KIOSK, event_ids, **kiosk)  # type: ignore[arg-type]
    clock = Clock()
    with kiosk_content(config, store) as content:
        app = KioskApp(
            window,
            content,
            config.site,
            KIOSK_COOKIE,
            KIOSK,
            lambda: store,
            clock=clock,
            sms=config.sms,
        )
        try:
            yield Driver(app, clock)
        finally:
            app.close()


@pytest.fixture
def one_event(store: Store, short_code: str) -> tuple:
    return make_event(store, short_code, capacity=5)


@pytest.fixture
def kiosk(
    store: Store, config: ClusterConfig, window: pygame.Surface, one_event: tuple
) -> Iterator[Driver]:
    event, _ = one_event
    with driven(store, config, window, [event.event_id], welcome="Welcome! Tap an event.") as kiosk:
        yield kiosk


def sign_up_to_review(kiosk: Driver, title: str, option: str, name: str, phone: str) -> None:
    kiosk.tap(title)
    assert kiosk.screen == "event"
    kiosk.tap(option)
    assert kiosk.screen == "signup"
    kiosk.type(name)
    kiosk.tap("Next")
    kiosk.type(phone)
    kiosk.tap("Next")
    kiosk.tap("+")
    kiosk.tap("Next")


def test_a_sign_up_by_touch_lands_in_cassandra_and_shows_its_code(
    kiosk: Driver, store: Store, config: ClusterConfig, one_event: tuple
) -> None:
    event, option = one_event
    kiosk.save("welcome")
    assert event.title in kiosk.labels() and "5 seats left" in kiosk.texts()
    kiosk.tap(event.title)
    kiosk.save("event")
    kiosk.tap("Main: 5 seats left")
    kiosk.type("ada love")
    kiosk.save("signup-name")
    assert kiosk.app.screen.form.name == "Ada Love"  # type: ignore[attr-defined]
    kiosk.tap("Next")
    phone = new_phone()
    kiosk.type(phone)
    kiosk.save("signup-contact")
    kiosk.tap("Next")
    kiosk.tap("+")
    kiosk.save("signup-party")
    kiosk.tap("Next")
    kiosk.save("signup-review")
    kiosk.tap("Confirm")
    kiosk.until("result")
    kiosk.save("result")
    screen = kiosk.app.screen
    assert isinstance(screen, ResultScreen) and screen.registration is not None
    ref = screen.registration.ref
    stored = store.registrations.get(ref)
    assert (stored.channel, stored.name, stored.party_size) == ("kiosk", "Ada Love", 2)
    assert stored.contact == phone and stored.status == "confirmed"
    assert ref in kiosk.texts() and "You are signed up" in kiosk.texts()
    assert config.sms is not None  # the repository's cluster.yaml has a site number
    sms_number = as_dialled(config.sms.number, config.site.phone_region)
    assert f"Or text CANCEL {ref} to {sms_number}." in kiosk.texts()
    assert store.events.option(event.event_id, option.option_id).seats.taken == 2
    kiosk.tap("Done")
    assert kiosk.screen == "welcome"
    kiosk.showing("3 seats left")


def test_an_e_mail_sign_up_is_not_told_to_text(kiosk: Driver, one_event: tuple) -> None:
    event, _ = one_event
    kiosk.tap(event.title)
    kiosk.tap("Main: 5 seats left")
    kiosk.type("eve")
    kiosk.tap("Next")
    kiosk.tap("E-mail")
    kiosk.type(f"eve.{secrets.token_hex(3)}@example.org")
    kiosk.tap("Next")
    kiosk.tap("Next")
    kiosk.tap("Confirm")
    kiosk.until("result")
    texts = kiosk.texts()
    assert "You are signed up" in texts
    assert not any(text.startswith("Or text CANCEL") for text in texts), texts


def test_a_full_option_offers_its_waitlist_and_says_the_position(
    store: Store, config: ClusterConfig, window: pygame.Surface, short_code: str
) -> None:
    event, option = make_event(store, short_code, capacity=2, waitlist=True)
    signups.sign_up(
        store, Client.kiosk("kiosk-other"), option.option_id, "Fay First", new_phone(), 2
    )
    with driven(store, config, window, [event.event_id]) as kiosk:
        assert "Full: waitlist open" in kiosk.texts()
        sign_up_to_review(kiosk, event.title, "Main: full: join the waitlist", "bo", new_phone())
        assert "This is full: you will join its waitlist." in kiosk.texts()
        kiosk.tap("Confirm")
        kiosk.until("result")
        kiosk.save("result-waitlisted")
        assert "You are on the waitlist: number 1" in kiosk.texts()


def test_a_closed_event_cannot_be_signed_up_for(
    store: Store, config: ClusterConfig, window: pygame.Surface, short_code: str
) -> None:
    event, _ = make_event(store, short_code)
    with driven(store, config, window, [event.event_id]) as kiosk:
        sign_up_to_review(kiosk, event.title, "Main: 5 seats left", "cy", new_phone())
        store.events.set_open(event.event_id, False)
        kiosk.tap("Confirm")
        kiosk.answered()
        kiosk.save("signup-refused-closed")
        texts = kiosk.texts()
        assert "Sign-ups for this event are closed." in texts, texts
        assert "Choose another" in kiosk.labels() and "Confirm" not in kiosk.labels()
        kiosk.tap("Choose another")
        kiosk.showing("Main: closed")
        assert kiosk.screen == "event"
        assert "Main: closed" not in kiosk.labels()  # shown, not pressable


def test_a_cancelled_event_says_so_in_the_websites_words(
    store: Store, config: ClusterConfig, window: pygame.Surface, short_code: str
) -> None:
    event, _ = make_event(store, short_code)
    store.events.cancel(event.event_id, times.now())
    with driven(store, config, window, [event.event_id]) as kiosk:
        assert "Cancelled" in kiosk.texts()
        kiosk.tap(event.title)
        assert kiosk.screen == "event"
        kiosk.save("event-cancelled")
        assert " ".join(kiosk.texts()).find(signups.EVENT_CANCELLED) >= 0, kiosk.texts()
        assert not any(label.startswith("Main") for label in kiosk.labels())


def test_an_invalid_phone_number_names_the_field(kiosk: Driver, one_event: tuple) -> None:
    event, _ = one_event
    sign_up_to_review(kiosk, event.title, "Main: 5 seats left", "di", "555")
    kiosk.tap("Confirm")
    kiosk.answered()
    kiosk.save("signup-refused-phone")
    screen = kiosk.app.screen
    assert isinstance(screen, SignupScreen) and screen.form.step == "contact"
    assert any(text.startswith("Contact ") for text in kiosk.texts()), kiosk.texts()


def test_the_idle_reset_leaves_nothing_typed(kiosk: Driver, one_event: tuple) -> None:
    event, _ = one_event
    sign_up_to_review(kiosk, event.title, "Main: 5 seats left", "xu quill", "+15550199")
    screen = kiosk.app.screen
    assert isinstance(screen, SignupScreen)
    form = screen.form
    kiosk.tap("Larger text")
    kiosk.clock.now += kiosk.app.catalog.idle_timeout_s
    kiosk.step()
    assert kiosk.screen == "still-there" and kiosk.app.view()["masked"]
    kiosk.save("still-there")
    assert f"Going back to the start in {int(COUNTDOWN_S)} s" in kiosk.texts()
    kiosk.tap("I am still here")
    assert kiosk.screen == "signup" and form.name == "Xu Quill"
    kiosk.clock.now += kiosk.app.catalog.idle_timeout_s
    kiosk.step()
    kiosk.clock.now += COUNTDOWN_S
    kiosk.step()
    assert kiosk.screen == "welcome" and not kiosk.app.large
    assert (form.name, form.contact, form.party_size) == ("", "", 1)
    shown = " ".join(kiosk.texts() + kiosk.labels())
    assert "Quill" not in shown and "0199" not in shown
    kiosk.save("after-idle-reset")
    fresh = pygame.Surface(kiosk.app.window.get_size())
    WelcomeScreen().draw(Canvas(fresh, kiosk.app.theme, kiosk.app.content.images), kiosk.app)
    assert pygame.image.tobytes(fresh, "RGB") == pygame.image.tobytes(kiosk.app.window, "RGB")


def test_every_screen_fits_every_size_in_both_modes(
    store: Store, config: ClusterConfig, one_event: tuple
) -> None:
    event, _ = one_event
    for width, height in SCREEN_SIZES:
        pygame.display.init()
        window = pygame.display.set_mode((width, height))
        try:
            with driven(store, config, window, [event.event_id]) as kiosk:
                for large in (False, True):
                    if kiosk.app.large != large:
                        kiosk.tap("Standard text" if kiosk.app.large else "Larger text")
                    seen = _walk_screens(kiosk, event.title, f"{width}x{height}-{int(large)}")
                    assert seen == ["welcome", "event", "signup", "signup", "signup", "signup"]
        finally:
            pygame.display.quit()


def _walk_screens(kiosk: Driver, title: str, tag: str) -> list[str]:
    """Every screen from Welcome to the review, checked for target sizes and overlap."""
    seen = []

    def check(name: str) -> None:
        view = kiosk.app.view()
        width, height = view["size"]
        rects = [pygame.Rect(b[1:]) for b in view["buttons"] if b[0] != "anywhere"]
        for rect in rects:
            assert min(rect.width, rect.height) >= MIN_TARGET_PX, (name, tag, rect)
            assert pygame.Rect(0, 0, width, height).contains(rect), (name, tag, rect)
        for index, rect in enumerate(rects):
            assert rect.collidelist(rects[index + 1 :]) == -1, (name, tag, rect)
        labels = kiosk.labels()
        assert ("Larger text" in labels) != ("Standard text" in labels), labels
        seen.append(view["screen"])
        kiosk.save(f"{tag}-{name}")

    check("welcome")
    kiosk.tap(title)
    check("event")
    kiosk.tap("Main: 5 seats left")
    kiosk.type("fy")
    check("name")
    kiosk.tap("Next")
    kiosk.tap("E-mail")
    kiosk.type("fy@")
    check("email")
    kiosk.tap("Next")
    check("party")
    kiosk.tap("Next")
    check("review")
    kiosk.app.home()
    return seen
