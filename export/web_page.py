"""Driving the sampling page (web/) in headless Chromium with Playwright: the browser benchmark and the tests.

The page reports its state in `document.body.dataset.status`: "loading",
"ready" (a model is loaded), "running", "done" (a run finished; the seconds it
took are in `dataset.seconds`) or "error" (the message is in #error).
"""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package (apt-get install chromium), as .ci/run installs it
# As root, without a sandbox, and without the background connections a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright):
    """Debian's Chromium, headless, started by a `sync_playwright()` context."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def wait_for(page, states=("done", "error"), timeout=120_000):
    """Waits until the page's status is one of `states`; returns it."""
    page.wait_for_function(f"{list(states)}.includes(document.body.dataset.status)", timeout=timeout)
    return page.evaluate("document.body.dataset.status")


def press_run(page, timeout=120_000):
    """Presses the page's Run button and waits until that run is done or shows an error; returns the status."""
    page.evaluate("document.body.dataset.status = 'clicked'")
    page.click("#run")
    return wait_for(page, timeout=timeout)
