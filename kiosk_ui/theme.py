"""The kiosk's look: colours, type sizes and touch-target sizes, scaled to the screen.

Two themes, one tap apart on every screen: :data:`STANDARD` and :data:`LARGE_HIGH_CONTRAST`
(bigger type and targets, black and white). Every pair of colours that text is drawn in
(:attr:`Theme.text_pairs`) has a contrast of at least :data:`MIN_TEXT_CONTRAST` (WCAG 2.2's
4.5:1 for body text), computed by :func:`contrast_ratio`; tests/test_kiosk_theme.py checks
every pair of both themes.

Sizes are designed at 1920x1080 and scaled by :func:`scale_for`, the smaller of the width and
height ratios, so that a layout designed there fits from 1024x600 to 3840x2160 without
overlap; a touch target is never smaller than :data:`MIN_TARGET_PX` whatever the screen
(a fingertip does not shrink with the display).

    >>> metrics = STANDARD.metrics(1920, 1080)
    >>> metrics.target_px, metrics.body_px
    (96, 40)

Immutable: safe to share between threads.
"""

from __future__ import annotations

from dataclasses import dataclass

Colour = tuple[int, int, int]

DESIGN_SIZE = (1920, 1080)
"""The screen size the sizes below are designed at."""
SCREEN_SIZES = ((1024, 600), (1280, 800), (1366, 768), (1920, 1080), (2560, 1440), (3840, 2160))
"""Screens the kiosk is laid out for (and tested at): 7-inch panels to 4K."""
MIN_TARGET_PX = 48
"""No touch target is smaller, at any resolution."""
MIN_TEXT_CONTRAST = 4.5
"""WCAG 2.2 success criterion 1.4.3 (contrast, minimum) for body text."""


def relative_luminance(colour: Colour) -> float:
    """WCAG 2.2's relative luminance of an sRGB colour (0 black to 1 white)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(channel) for channel in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: Colour, background: Colour) -> float:
    """WCAG 2.2's contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def scale_for(width: int, height: int) -> float:
    """How much a size designed at :data:`DESIGN_SIZE` is scaled on a ``width`` x ``height``
    screen: the smaller ratio, so that nothing designed to fit there overflows."""
    if width <= 0 or height <= 0:
        raise ValueError(f"screen size {width}x{height} is not a size")
    return min(width / DESIGN_SIZE[0], height / DESIGN_SIZE[1])


@dataclass(frozen=True)
class Metrics:
    """A theme's sizes in pixels on one screen."""

    scale: float
    target_px: int
    """The height (and least width) of a button."""
    key_px: int
    """The least height and width of a key of an on-screen keyboard (keys are as large as
    their area allows, up to twice :attr:`target_px`)."""
    gap_px: int
    """The space between targets, so that a finger between two hits neither."""
    body_px: int
    heading_px: int
    code_px: int
    """The reference code on the result screen: read from a step back."""


@dataclass(frozen=True)
class Theme:
    """Colours and design sizes (at :data:`DESIGN_SIZE`) of one look of the kiosk."""

    name: str
    background: Colour
    panel: Colour
    """Behind text laid over an event's background image."""
    text: Colour
    muted: Colour
    """Dates, seat counts: secondary, still readable."""
    accent: Colour
    """Buttons such as Confirm."""
    accent_text: Colour
    danger: Colour
    """Refusals (option full, a field to correct), drawn as text on the panel."""
    target_px: int
    key_px: int
    gap_px: int
    body_px: int
    heading_px: int
    code_px: int

    @property
    def text_pairs(self) -> dict[str, tuple[Colour, Colour]]:
        """Every (text colour, background colour) this theme draws text in, by role."""
        return {
            "text on background": (self.text, self.background),
            "text on panel": (self.text, self.panel),
            "muted on panel": (self.muted, self.panel),
            "muted on background": (self.muted, self.background),
            "button label": (self.accent_text, self.accent),
            "refusal on panel": (self.danger, self.panel),
        }

    def metrics(self, width: int, height: int) -> Metrics:
        """This theme's sizes on a ``width`` x ``height`` screen."""
        scale = scale_for(width, height)

        def scaled(size: int) -> int:
            return max(1, round(size * scale))

        return Metrics(
            scale=scale,
            target_px=max(MIN_TARGET_PX, scaled(self.target_px)),
            key_px=max(MIN_TARGET_PX, scaled(self.key_px)),
            gap_px=scaled(self.gap_px),
            body_px=scaled(self.body_px),
            heading_px=scaled(self.heading_px),
            code_px=scaled(self.code_px),
        )


STANDARD = Theme(
    name="standard",
    background=(18, 24, 38),
    panel=(30, 38, 58),
    text=(245, 247, 250),
    muted=(190, 198, 214),
    accent=(255, 196, 0),
    accent_text=(18, 24, 38),
    danger=(255, 150, 140),
    target_px=96,
    key_px=80,
    gap_px=16,
    body_px=40,
    heading_px=64,
    code_px=120,
)
"""The kiosk's everyday look: light text on dark blue, a yellow Confirm."""

LARGE_HIGH_CONTRAST = Theme(
    name="large, high contrast",
    background=(0, 0, 0),
    panel=(0, 0, 0),
    text=(255, 255, 255),
    muted=(255, 255, 255),
    accent=(255, 255, 0),
    accent_text=(0, 0, 0),
    danger=(255, 170, 170),
    target_px=128,
    key_px=96,
    gap_px=24,
    body_px=56,
    heading_px=84,
    code_px=160,
)
"""Bigger type and targets, white and yellow on black: one tap away on every screen."""

THEMES = (STANDARD, LARGE_HIGH_CONTRAST)
