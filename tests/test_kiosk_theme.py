"""The kiosk's look (kiosk_ui.theme): contrast of every text colour, sizes on every screen."""

from __future__ import annotations

import importlib.metadata

import pytest

from kiosk_ui.theme import (
    LARGE_HIGH_CONTRAST,
    MIN_TARGET_PX,
    MIN_TEXT_CONTRAST,
    SCREEN_SIZES,
    STANDARD,
    THEMES,
    Theme,
    contrast_ratio,
    scale_for,
)


def test_the_contrast_ratio_is_wcags() -> None:
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio((255, 255, 255), (0, 0, 0)) == pytest.approx(21.0)
    assert contrast_ratio((119, 119, 119), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio((18, 52, 86), (18, 52, 86)) == pytest.approx(1.0)


@pytest.mark.parametrize("theme", THEMES, ids=lambda theme: theme.name)
def test_every_text_colour_of_a_theme_is_readable_on_its_background(theme: Theme) -> None:
    ratios = {role: round(contrast_ratio(*pair), 2) for role, pair in theme.text_pairs.items()}
    assert all(ratio >= MIN_TEXT_CONTRAST for ratio in ratios.values()), ratios


@pytest.mark.parametrize("size", SCREEN_SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_targets_stay_touchable_and_type_scales_with_the_screen(size: tuple[int, int]) -> None:
    for theme in THEMES:
        metrics = theme.metrics(*size)
        assert metrics.target_px >= MIN_TARGET_PX and metrics.key_px >= MIN_TARGET_PX
        assert metrics.body_px < metrics.heading_px < metrics.code_px
        assert metrics.target_px > metrics.body_px  # a label fits inside its button
    assert LARGE_HIGH_CONTRAST.metrics(*size).body_px > STANDARD.metrics(*size).body_px


def test_sizes_are_as_designed_at_1920x1080_and_fit_the_smaller_side() -> None:
    assert STANDARD.metrics(1920, 1080).target_px == STANDARD.target_px >= MIN_TARGET_PX
    assert scale_for(3840, 2160) == 2.0
    assert scale_for(1920, 1200) == 1.0  # taller: the width decides
    with pytest.raises(ValueError, match="0x1080"):
        scale_for(0, 1080)


def test_the_kiosk_runs_on_pygame_and_nothing_installs_pygame_ce() -> None:
    assert importlib.metadata.version("pygame") == "2.6.1"
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("pygame-ce")
