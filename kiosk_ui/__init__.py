"""The touchscreen kiosk's UI (Pygame). So far: its look (:mod:`kiosk_ui.theme`), touch input
(:mod:`kiosk_ui.touch`) and the on-screen keyboards (:mod:`kiosk_ui.keyboard`)."""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no banner in a kiosk node's log
