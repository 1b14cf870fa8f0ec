"""The touchscreen kiosk's UI (Pygame). So far: its look, :mod:`kiosk_ui.theme`."""
