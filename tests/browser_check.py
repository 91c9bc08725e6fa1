"""Load every page of the built site in a real headless Chromium and fail on breakage.

    .venv/bin/python tests/browser_check.py [_build/html] [--screenshots DIR]

Serves the site from a local HTTP server on 127.0.0.1, opens each HTML page in
Debian's Chromium (through Playwright, with ``executable_path``), and reports:
a JavaScript error, a failed or 4xx/5xx request to the local server, an image
that did not load, maths that MathJax did not render, or a Markdown table shown
as text. Saves a full-page screenshot of every chapter. Exits 1 if any page fails.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import tempfile
import threading
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic"]
SKIP = {"genindex.html", "search.html", "py-modindex.html"}


def pages(site: Path) -> list[Path]:
    """Every content page of the site (not Sphinx's generated index and search pages)."""
    return sorted(p for p in site.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(site).parts)
                  and p.name not in SKIP)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


CHECK_PAGE = """() => {
  const broken = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
  const mathNodes = document.querySelectorAll('.math, span.math, div.math');
  const rendered = document.querySelectorAll('mjx-container').length;
  const errors = document.querySelectorAll('mjx-merror').length;
  // a Markdown table shown as text (its "| --- |" row, or "|—|" once smartquotes ran)
  const rawTables = [...document.querySelectorAll('main p')]
    .filter(p => /\|\s*(-{3}|\u2014)/.test(p.textContent)).length;
  return {broken, math: mathNodes.length, rendered, mathErrors: errors, rawTables,
          mathjax: typeof window.MathJax !== 'undefined'};
}"""


def check(site: Path, screenshots: Path | None, timeout_ms: int = 30_000) -> list[str]:
    from playwright.sync_api import sync_playwright

    failures: list[str] = []
    server, base = serve(site)
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
            browser = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                viewport={"width": 1280, "height": 900})
            for path in pages(site):
                rel = path.relative_to(site).as_posix()
                problems: list[str] = []
                page = browser.new_page()
                page.on("pageerror", lambda err: problems.append(f"JavaScript error: {err}"))
                page.on("console", lambda msg: problems.append(f"console error: {msg.text}")
                        if msg.type == "error" else None)
                page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}")
                        if req.url.startswith(base) else None)
                page.on("response", lambda resp: problems.append(f"HTTP {resp.status}: {resp.url}")
                        if resp.url.startswith(base) and resp.status >= 400 else None)
                page.goto(f"{base}/{rel}", wait_until="load", timeout=timeout_ms)
                page.wait_for_load_state("networkidle", timeout=timeout_ms)
                if page.evaluate("() => document.querySelectorAll('.math').length") > 0:
                    try:
                        page.wait_for_function(
                            "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                            " && document.querySelectorAll('mjx-container').length > 0", timeout=timeout_ms)
                        page.evaluate("() => MathJax.startup.promise")
                    except Exception:
                        problems.append("MathJax did not start")
                state = page.evaluate(CHECK_PAGE)
                problems += [f"broken image: {src}" for src in state["broken"]]
                if state["math"] and state["rendered"] < state["math"]:
                    problems.append(f"unrendered maths: {state['math']} math nodes, "
                                    f"{state['rendered']} rendered")
                if state["rawTables"]:
                    problems.append(f"{state['rawTables']} Markdown tables shown as text, not rendered")
                if state["mathErrors"]:
                    problems.append(f"{state['mathErrors']} MathJax errors")
                if screenshots is not None:
                    screenshots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshots / (rel.replace("/", "_")[:-5] + ".png")), full_page=True)
                page.close()
                status = "ok" if not problems else "FAIL"
                print(f"{status:4s} {rel}  (maths {state['rendered']}/{state['math']}, "
                      f"images {len(state['broken'])} broken)", flush=True)
                failures += [f"{rel}: {p}" for p in problems]
            browser.close()
    finally:
        server.shutdown()
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", default="_build/html", type=Path)
    parser.add_argument("--screenshots", type=Path, default=Path("_build/screenshots"))
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"error: no built site at {args.site} (run `make book` first)", file=sys.stderr)
        return 2
    failures = check(args.site, args.screenshots)
    for failure in failures:
        print(f"  {failure}")
    n = len(pages(args.site))
    print(f"browser check: {n - len({f.split(':')[0] for f in failures})} pages passed, "
          f"{len({f.split(':')[0] for f in failures})} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
