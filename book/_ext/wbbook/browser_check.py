"""Load every page of the built site in a real headless Chromium and fail on breakage.

    python -m wbbook.browser_check [_build/html] [--screenshots DIR]

Serves the site on 127.0.0.1, opens each HTML page in Debian's Chromium (through
Playwright), each in a fresh browser context so that nothing carries over from one page
to the next, waits for what the check reads (the load event, MathJax's startup promise,
every image complete), and reports: a JavaScript error, a failed or 4xx/5xx request to
the local server, an image that did not load, maths that MathJax did not render, or a
Markdown table shown as text, or (at a phone's width, the same page narrowed) a display
equation wider than the text column. On a phone-sized viewport it opens the chapter menu
with the visible button. Saves a full-page screenshot of every page. Exits 1 if any page fails.

**Accessibility.** On every page, once it is ready and its screenshot taken, the check runs
axe-core (its default rules: WCAG 2 A and AA, and Deque's best practices, plus WCAG 2.5.3
"Label in Name", ``label-content-name-mismatch``, which axe still counts as experimental)
and fails the
page on each violation of impact "serious" or "critical", one line per rule; moderate and
minor ones are only counted, in the page's ``axe:`` summary line. The phone page is audited
too, with its chapter menu open. axe-core's ``axe.min.js`` comes from npm (pinned in
``package.json`` and ``package-lock.json``; ``npm ci`` installs it). axe takes seconds on a long page
(its colour-contrast rule, on the API reference), so it audits one page while the next
one loads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import explorer_check
from .browser import launch, open_ready, serve

#: axe impacts that fail a page; the others are only counted.
SEVERE = ("critical", "serious")

SKIP = {"genindex.html", "search.html", "py-modindex.html"}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def pages(site: Path) -> list[Path]:
    """Every content page of the site (not Sphinx's generated index and search pages)."""
    return sorted(
        p
        for p in site.rglob("*.html")
        if not any(part.startswith("_") for part in p.relative_to(site).parts)
        and p.name not in SKIP
    )


CHECK_PAGE = """() => {
  const broken = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
  const mathNodes = document.querySelectorAll('.math, span.math, div.math');
  const rendered = document.querySelectorAll('mjx-container').length;
  const errors = document.querySelectorAll('mjx-merror').length;
  // a Markdown table shown as text (its "| --- |" row, or "|—|" once smartquotes ran)
  const rawTables = [...document.querySelectorAll('main p')]
    .filter(p => /\\|\\s*(-{3}|\\u2014)/.test(p.textContent)).length;
  // every figure opens at full size (static/wbbook-figures.js)
  const unlinked = [...document.querySelectorAll('main figure img, main .cell_output img')]
    .filter(i => !i.closest('a')).length;
  return {broken, math: mathNodes.length, rendered, mathErrors: errors, rawTables, unlinked};
}"""

#: Whether the chapter list (the primary sidebar's navigation) is on screen.
SIDEBAR_SHOWN = """() => [...document.querySelectorAll('nav.bd-docs-nav')].some(nav => {
  const box = nav.getBoundingClientRect();
  return nav.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
    && box.width > 100 && box.height > 50 && box.left < window.innerWidth && box.right > 0;
})"""


#: Where ``npm ci`` at the repository's root puts axe-core's script.
AXE_FILE = (
    Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"
)


def axe_script(path: Path = AXE_FILE) -> str:
    """axe-core's ``axe.min.js``, as npm installed it from ``package-lock.json``."""
    if not path.is_file():
        raise SystemExit(
            f"error: axe-core is not installed ({path} is missing): run `npm ci` in the repository"
        )
    return path.read_text(encoding="utf-8")


#: axe-core's options: its default rules and Label in Name; only the violations are reported
#: in full. The CSSOM preload is left out: axe-core 4.12 fetched a stylesheet's relative ``@import`` from
#: the wrong URL (dequelabs/axe-core#5268: a 404 for ``/basic.css``, pulled in by the theme's
#: ``_static/styles/theme.css``), and only ``css-orientation-lock``, an experimental rule that
#: the defaults do not run, reads the CSSOM. The media preload (autoplaying audio) stays.
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "preload": {"assets": ["media"]},
    "rules": {"label-content-name-mismatch": {"enabled": True}},
}

#: Starts axe-core on the whole document, without waiting for it: the check reads the result
#: (``AXE_RESULT``) later, so the next page loads while this one is audited.
START_AXE = """(options) => {
  window.__wbbookAxe = axe.run(document, options).then(results => ({
    version: results.testEngine.version,
    violations: results.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({target: n.target, impact: n.impact})),
    })),
  }));
}"""
AXE_RESULT = "() => window.__wbbookAxe"


def start_axe(page, script: str) -> None:
    """Inject axe-core into ``page`` and start it on the whole document."""
    page.add_script_tag(content=script)
    page.evaluate(START_AXE, AXE_OPTIONS)


def _selector(target, limit: int = 80) -> str:
    """A node's axe target as one short selector (iframes and shadow roots joined by " >> ")."""
    text = " >> ".join(
        t if isinstance(t, str) else " ".join(map(str, t)) for t in target
    )
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def axe_report(results: dict) -> tuple[list[str], str]:
    """An axe result's failures and the page's one-line summary.

    A failure is a violation of impact "serious" or "critical": one line per rule, with the
    number of nodes and the first node's selector. The summary counts the rules violated,
    the severe ones and the others (moderate, minor), naming each with its number of nodes.
    """
    violations = results.get("violations", [])
    severe = [v for v in violations if v.get("impact") in SEVERE]
    mild = [v for v in violations if v.get("impact") not in SEVERE]
    failures = []
    for v in severe:
        nodes = v.get("nodes", [])
        where = (
            f", e.g. {_selector(nodes[0]['target'])}"
            if nodes and nodes[0].get("target")
            else ""
        )
        help_ = f" \u2014 {v['help']}" if v.get("help") else ""
        failures.append(
            f"axe {v['id']} ({v['impact']}): {_plural(len(nodes), 'node')}{where}{help_}"
        )

    def named(group: list[dict]) -> str:
        names = ", ".join(f"{v['id']} \u00d7{len(v.get('nodes', []))}" for v in group)
        return f" ({names})" if names else ""

    summary = f"axe: {len(severe)} serious/critical{named(severe)}, {len(mild)} moderate/minor{named(mild)}"
    return failures, summary


def _watch(context, base: str, problems: list[str]) -> None:
    """Record the context's JavaScript errors, console errors and broken requests in ``problems``."""
    context.on(
        "weberror", lambda err: problems.append(f"JavaScript error: {err.error}")
    )
    context.on(
        "console",
        lambda msg: (
            problems.append(f"console error: {msg.text}")
            if msg.type == "error"
            else None
        ),
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


#: The display equations wider than their column: ``[width, column, text]`` each.
WIDE_MATHS = """() => [...document.querySelectorAll('mjx-container[display="true"]')].map(m => {
  const inner = m.firstElementChild ? m.firstElementChild.getBoundingClientRect().width : m.scrollWidth;
  return [Math.round(inner), Math.round(m.parentElement.getBoundingClientRect().width),
          m.textContent.slice(0, 40)];
}).filter(([width, column]) => width > column + 1)"""


class PageCheck:
    """One page open in a fresh context, checked, its screenshot taken, and axe-core running
    (when given its script). ``finish()`` waits for axe, then narrows the same page to a
    phone's width and checks that every display equation fits the column (the layout
    reflows; nothing is loaded or typeset again), closes the context and returns the
    page's problems and what was measured."""

    def __init__(
        self,
        browser,
        base: str,
        rel: str,
        screenshot: Path | None,
        timeout_ms: int = 30_000,
        axe: str | None = None,
    ):
        self.problems: list[str] = []
        self.context = browser.new_context(viewport=DESKTOP)
        self.axe = axe is not None
        try:
            _watch(self.context, base, self.problems)
            self.page = open_ready(self.context, f"{base}/{rel}", timeout_ms)
            self.state = state = self.page.evaluate(CHECK_PAGE)
            self.problems += [f"broken image: {src}" for src in state["broken"]]
            if state["math"] and state["rendered"] < state["math"]:
                self.problems.append(
                    f"unrendered maths: {state['math']} math nodes, {state['rendered']} rendered"
                )
            if state["rawTables"]:
                self.problems.append(
                    f"{state['rawTables']} Markdown tables shown as text, not rendered"
                )
            if state["unlinked"]:
                self.problems.append(
                    f"{state['unlinked']} figures are not links to their full-size image"
                )
            if state["mathErrors"]:
                self.problems.append(f"{state['mathErrors']} MathJax errors")
            if screenshot is not None:
                self.page.screenshot(path=str(screenshot), full_page=True)
            if (
                axe is not None
            ):  # after the screenshot: axe scrolls the page as it works
                start_axe(self.page, axe)
        except BaseException:
            self.context.close()
            raise

    def finish(self) -> tuple[list[str], dict]:
        try:
            if self.axe:
                failures, self.state["axe"] = axe_report(self.page.evaluate(AXE_RESULT))
                self.problems += failures
            if self.state["math"]:
                self.page.set_viewport_size(PHONE)
                for width, column, text in self.page.evaluate(WIDE_MATHS):
                    self.problems.append(
                        f"on a phone, an equation is {width} px wide in a {column} px "
                        f"column: {text}"
                    )
        finally:
            self.context.close()
        return self.problems, self.state


def check_phone_menu(
    browser, base: str, rel: str, timeout_ms: int = 30_000, axe: str | None = None
):
    """On a 390 × 844 viewport, the visible menu button must open the chapter list; then,
    given axe-core's script, the page with its menu open must pass axe.

    Returns the problems and axe's summary line (None without axe)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = open_ready(context, f"{base}/{rel}", timeout_ms)
        if page.evaluate(SIDEBAR_SHOWN):
            return [
                "phone: the chapter list is shown before the menu button is pressed"
            ], None
        buttons = page.locator(
            "button.primary-toggle:visible, label.sidebar-toggle.primary-toggle:visible"
        )
        if buttons.count() == 0:
            return ["phone: no visible menu button"], None
        buttons.first.click()
        try:
            page.wait_for_function(SIDEBAR_SHOWN, timeout=5_000)
        except Exception:
            return ["phone: the menu button does not open the chapter list"], None
        if axe is None:
            return [], None
        start_axe(page, axe)
        failures, summary = axe_report(page.evaluate(AXE_RESULT))
        return [f"phone, menu open: {f}" for f in failures], summary
    finally:
        context.close()


#: Whether the first folded solution of the page is open (sphinx-togglebutton's classes).
SOLUTION_OPEN = """() => {
  const solution = document.querySelector('.solution.dropdown');
  return solution !== null && !solution.classList.contains('toggle-hidden');
}"""


def check_solution_title(
    browser, base: str, rel: str, timeout_ms: int = 30_000
) -> list[str]:
    """Clicking a folded solution's title (mostly a link to its exercise) must open it."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = open_ready(context, f"{base}/{rel}", timeout_ms)
        title = page.locator(".solution.dropdown > .admonition-title a").first
        if title.count() == 0:
            return ["no folded solution to open"]
        if page.evaluate(SOLUTION_OPEN):
            return ["the first solution is open before its title is clicked"]
        title.click()
        try:
            page.wait_for_function(SOLUTION_OPEN, timeout=5_000)
        except Exception:
            return ["clicking a solution's title does not open it"]
        return []
    finally:
        context.close()


#: Display equations wider than the text column (on a phone they would need scrolling).
def check(site: Path, screenshots: Path | None, timeout_ms: int = 30_000) -> list[str]:
    """Every page's problems, as ``"page: problem"`` lines."""
    from playwright.sync_api import sync_playwright

    failures: list[str] = []
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)

    def report(rel: str, pending: PageCheck) -> None:
        problems, state = pending.finish()
        print(
            f"{'ok' if not problems else 'FAIL':4s} {rel}  (maths {state['rendered']}/"
            f"{state['math']}, images {len(state['broken'])} broken)\n     {state.get('axe', 'axe: not run')}",
            flush=True,
        )
        failures.extend(f"{rel}: {p}" for p in problems)

    with serve(site) as base, sync_playwright() as pw:
        browser = launch(pw)
        axe = axe_script()
        pending: tuple[str, PageCheck] | None = None
        try:
            # two pages at a time: axe-core audits one while the next one loads
            for path in pages(site):
                rel = path.relative_to(site).as_posix()
                shot = (
                    screenshots / (rel.replace("/", "_")[:-5] + ".png")
                    if screenshots
                    else None
                )
                done, pending = (
                    pending,
                    (rel, PageCheck(browser, base, rel, shot, timeout_ms, axe)),
                )
                if done is not None:
                    report(*done)
            done, pending = pending, None
            if done is not None:
                report(*done)
            first = pages(site)[0].relative_to(site).as_posix()
            phone, summary = check_phone_menu(browser, base, first, timeout_ms, axe)
            print(
                f"{'ok' if not phone else 'FAIL':4s} {first} on a phone: the menu button opens "
                f"the chapter list" + (f"\n     {summary}" if summary else ""),
                flush=True,
            )
            failures += [f"{first}: {p}" for p in phone]
            explorers = [
                p for p in pages(site) if 'class="wbbook-explorer"' in p.read_text()
            ]
            if not explorers:
                failures.append("site: no page has the explorer")
            for path in explorers:
                rel = path.relative_to(site).as_posix()
                problems, summary = explorer_check.check_live(browser, base, rel, axe)
                print(
                    f"{'ok' if not problems else 'FAIL':4s} {rel}: the explorer runs the models in "
                    f"the page, as the package does, and answers a drawn digit\n     {summary}",
                    flush=True,
                )
                failures += [f"{rel}: {p}" for p in problems]
                problems = explorer_check.check_fallback(browser, base, rel, timeout_ms)
                print(
                    f"{'ok' if not problems else 'FAIL':4s} {rel}: with a corrupted weight file it "
                    "says so and shows the precomputed images",
                    flush=True,
                )
                failures += [f"{rel}: {p}" for p in problems]
            with_solutions = [
                p for p in pages(site) if 'class="solution dropdown' in p.read_text()
            ]
            if with_solutions:
                rel = with_solutions[0].relative_to(site).as_posix()
                solution = check_solution_title(browser, base, rel, timeout_ms)
                print(
                    f"{'ok' if not solution else 'FAIL':4s} {rel}: clicking a solution's title opens it",
                    flush=True,
                )
                failures += [f"{rel}: {p}" for p in solution]
        finally:
            if pending is not None:
                pending[1].context.close()
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
        print(
            f"error: no built site at {args.site} (run `make book` first)",
            file=sys.stderr,
        )
        return 2
    failures = check(args.site, args.screenshots)
    for failure in failures:
        print(f"  {failure}")
    failed = {f.split(":")[0] for f in failures}
    print(
        f"browser check: {len(pages(args.site)) - len(failed)} pages passed, {len(failed)} failed"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
