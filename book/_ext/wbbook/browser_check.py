"""Load every page of the built site in a real headless Chromium and fail on breakage.

    python -m wbbook.browser_check [_build/html] [--screenshots DIR]

Serves the site on 127.0.0.1, opens each HTML page in Debian's Chromium (through
Playwright), each in a fresh browser context so that nothing carries over from one page
to the next, waits for what the check reads (the load event, MathJax's startup promise,
every image complete), and reports: a JavaScript error, a failed or 4xx/5xx request to
the local server, an image that did not load, maths that MathJax did not render, or a
Markdown table shown as text. On a phone-sized viewport it opens the chapter menu with
the visible button. Saves a full-page screenshot of every page. Exits 1 if any page fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .browser import launch, open_ready, serve

SKIP = {"genindex.html", "search.html", "py-modindex.html"}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def pages(site: Path) -> list[Path]:
    """Every content page of the site (not Sphinx's generated index and search pages)."""
    return sorted(
        p
        for p in site.rglob("*.html")
        if not any(part.startswith("_") for part in p.relative_to(site).parts) and p.name not in SKIP
    )


CHECK_PAGE = """() => {
  const broken = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
  const mathNodes = document.querySelectorAll('.math, span.math, div.math');
  const rendered = document.querySelectorAll('mjx-container').length;
  const errors = document.querySelectorAll('mjx-merror').length;
  // a Markdown table shown as text (its "| --- |" row, or "|—|" once smartquotes ran)
  const rawTables = [...document.querySelectorAll('main p')]
    .filter(p => /\\|\\s*(-{3}|\\u2014)/.test(p.textContent)).length;
  return {broken, math: mathNodes.length, rendered, mathErrors: errors, rawTables};
}"""

#: Whether the chapter list (the primary sidebar's navigation) is on screen.
SIDEBAR_SHOWN = """() => [...document.querySelectorAll('nav.bd-docs-nav')].some(nav => {
  const box = nav.getBoundingClientRect();
  return nav.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
    && box.width > 100 && box.height > 50 && box.left < window.innerWidth && box.right > 0;
})"""


def check_page(
    browser, base: str, rel: str, screenshot: Path | None, timeout_ms: int = 30_000
) -> tuple[list[str], dict]:
    """Open one page in a fresh context; return its problems and what was measured."""
    problems: list[str] = []
    context = browser.new_context(viewport=DESKTOP)
    try:
        context.on("weberror", lambda err: problems.append(f"JavaScript error: {err.error}"))
        context.on(
            "console",
            lambda msg: problems.append(f"console error: {msg.text}") if msg.type == "error" else None,
        )
        # a request the browser itself abandoned (a redirect moved on) is not a broken file
        context.on(
            "requestfailed",
            lambda req: (
                problems.append(f"request failed: {req.url} ({req.failure})")
                if req.url.startswith(base) and req.failure != "net::ERR_ABORTED"
                else None
            ),
        )
        context.on(
            "response",
            lambda resp: (
                problems.append(f"HTTP {resp.status}: {resp.url}")
                if resp.url.startswith(base) and resp.status >= 400
                else None
            ),
        )
        page = open_ready(context, f"{base}/{rel}", timeout_ms)
        state = page.evaluate(CHECK_PAGE)
        problems += [f"broken image: {src}" for src in state["broken"]]
        if state["math"] and state["rendered"] < state["math"]:
            problems.append(f"unrendered maths: {state['math']} math nodes, {state['rendered']} rendered")
        if state["rawTables"]:
            problems.append(f"{state['rawTables']} Markdown tables shown as text, not rendered")
        if state["mathErrors"]:
            problems.append(f"{state['mathErrors']} MathJax errors")
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
    finally:
        context.close()
    return problems, state


def check_phone_menu(browser, base: str, rel: str, timeout_ms: int = 30_000) -> list[str]:
    """On a 390 × 844 viewport, the visible menu button must open the chapter list."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = open_ready(context, f"{base}/{rel}", timeout_ms)
        if page.evaluate(SIDEBAR_SHOWN):
            return ["phone: the chapter list is shown before the menu button is pressed"]
        buttons = page.locator("button.primary-toggle:visible, label.sidebar-toggle.primary-toggle:visible")
        if buttons.count() == 0:
            return ["phone: no visible menu button"]
        buttons.first.click()
        try:
            page.wait_for_function(SIDEBAR_SHOWN, timeout=5_000)
        except Exception:
            return ["phone: the menu button does not open the chapter list"]
        return []
    finally:
        context.close()


def check(site: Path, screenshots: Path | None, timeout_ms: int = 30_000) -> list[str]:
    """Every page's problems, as ``"page: problem"`` lines."""
    from playwright.sync_api import sync_playwright

    failures: list[str] = []
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
    with serve(site) as base, sync_playwright() as pw:
        browser = launch(pw)
        try:
            for path in pages(site):
                rel = path.relative_to(site).as_posix()
                shot = screenshots / (rel.replace("/", "_")[:-5] + ".png") if screenshots else None
                problems, state = check_page(browser, base, rel, shot, timeout_ms)
                print(
                    f"{'ok' if not problems else 'FAIL':4s} {rel}  (maths {state['rendered']}/"
                    f"{state['math']}, images {len(state['broken'])} broken)",
                    flush=True,
                )
                failures += [f"{rel}: {p}" for p in problems]
            first = pages(site)[0].relative_to(site).as_posix()
            phone = check_phone_menu(browser, base, first, timeout_ms)
            print(
                f"{'ok' if not phone else 'FAIL':4s} {first} on a phone: the menu button opens "
                "the chapter list",
                flush=True,
            )
            failures += [f"{first}: {p}" for p in phone]
        finally:
            browser.close()
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wbbook.browser_check", description=__doc__.splitlines()[0]
    )
    parser.add_argument("site", nargs="?", default="_build/html", type=Path)
    parser.add_argument("--screenshots", type=Path, default=Path("_build/screenshots"))
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"error: no built site at {args.site} (run `make book` first)", file=sys.stderr)
        return 2
    failures = check(args.site, args.screenshots)
    for failure in failures:
        print(f"  {failure}")
    failed = {f.split(":")[0] for f in failures}
    print(f"browser check: {len(pages(args.site)) - len(failed)} pages passed, {len(failed)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
