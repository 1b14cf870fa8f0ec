"""Screenshots of a running website for the README, taken with headless Chromium.

python -m web.screenshots http://127.0.0.1:8080 ADMIN_NAME   (the password is read from stdin)

Saves docs/screenshots/public.png (the home page) and docs/screenshots/admin.png (the
first event's page in the management UI).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

FOLDER = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the website's address, such as http://127.0.0.1:8080")
    parser.add_argument("username", help="an admin to sign in as")
    args = parser.parse_args(argv)
    password = sys.stdin.readline().rstrip("\r\n")
    FOLDER.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 720})
        page.goto(args.base + "/")
        page.screenshot(path=FOLDER / "public.png", full_page=True)
        page.goto(args.base + "/admin/login")
        page.get_by_label("Username").fill(args.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.locator("tbody a").first.click()
        page.screenshot(path=FOLDER / "admin.png")
        browser.close()
    print(f"saved {FOLDER / 'public.png'} and {FOLDER / 'admin.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
