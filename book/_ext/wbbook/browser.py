"""A built site served on 127.0.0.1, and Debian's Chromium driven by Playwright.

One helper for everything that opens the site in a browser: the browser check and the PDF.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

#: Where Chromium is looked for before Playwright's own download.
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
#: Headless, and no background connections: this machine's network is closed to them.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def chromium() -> str | None:
    """Debian's Chromium if installed, else None (Playwright then uses its own download)."""
    return next((path for path in CHROMIUM if Path(path).is_file()), None)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # the browser dropped the connection (a redirect moved on, a context closed): not an error
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve ``site`` on a free loopback port; yields the base URL (``http://127.0.0.1:PORT``).

    Over HTTP, not ``file://``: the local MathJax loads its fonts only from a server.
    """
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def launch(playwright):
    """A headless Chromium browser (Debian's when installed)."""
    return playwright.chromium.launch(
        executable_path=chromium(), headless=True, args=CHROMIUM_ARGS
    )


#: Resolves once the page is ready to be looked at: MathJax has typeset it (when the page
#: loads MathJax), the explorer has loaded its models or fallen back (when the page has
#: one), and every image has finished loading, whether it loaded or failed.
READY = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  if (window.wbinterpExplorer) await window.wbinterpExplorer.ready;
  await Promise.all([...document.images].map(img => img.complete ? null :
    new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); })));
  return true;
}"""


def open_ready(context, url: str, timeout_ms: int = 30_000):
    """Open ``url`` in a new tab of ``context`` and wait for :data:`READY` (not network idle:
    a page that keeps a connection open would never be idle)."""
    page = context.new_page()
    page.goto(url, wait_until="load", timeout=timeout_ms)
    page.wait_for_function(
        "() => document.readyState === 'complete'", timeout=timeout_ms
    )
    page.evaluate(READY)
    return page
