"""Drive the explorer page (``static/wbbook-explorer.js``) in Chromium and compare what it
computes with the Python package.

* The models it runs in the page, on 200 of its test images, give the logits of the
  bilinear model, the ReLU MLP and the spliced transcoder in ``wbinterp`` (the largest
  difference at most 1e-3 of the largest logit).
* Its preprocessing of a drawing is :func:`wbinterp.drawing.to_mnist`, on MNIST digits
  re-rendered five times larger.
* A full update (logits, terms, pictures) takes at most 50 ms.
* A stroke drawn with the mouse (desktop) and with touch events (a 390 px phone in dark
  mode) gets a verdict and terms, and the input the models got is what the package makes
  of the canvas; the sliders change what it says; axe-core finds nothing serious on
  either.
* With a weight file corrupted on the way, it says so in one line and shows the
  precomputed images, whose list and sliders still answer.
"""

from __future__ import annotations

import statistics

from .browser import open_ready

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
#: The largest difference allowed between the page's logits and the package's, as a
#: share of the largest logit.
TOLERANCE = 1e-3
#: A full update's budget, in milliseconds.
BUDGET_MS = 50.0
N_IMAGES = 200

API = "window.wbinterpExplorer"


def reference(indices: list[int]):
    """The package's logits for test images ``indices``: bilinear, MLP and spliced, from the
    stored models the book was built with; and the images themselves."""
    import torch

    from wbinterp import data, store
    from wbinterp.models import ReLUMLP

    test = data.load("mnist").test
    x = test.images[indices]
    bilinear_model = store.load_or_train("book").model
    mlp = store.load_or_train("relu").model
    transcoder = store.load_or_train("transcoder-topk").model
    if not isinstance(mlp, ReLUMLP):
        raise TypeError(f"the preset 'relu' gave a {type(mlp).__name__}, not a ReLUMLP")
    with torch.no_grad():
        logits = {
            "bilinear": bilinear_model(x),
            "mlp": mlp(x),
            "spliced": mlp.head(transcoder(x).output),
        }
    return x, logits


def rerendered(n: int = 3):
    """``n`` MNIST test digits drawn five times larger on a 200 × 240 canvas, and what
    :func:`wbinterp.drawing.to_mnist` makes of them."""
    import torch
    import torch.nn.functional as F

    from wbinterp import data, drawing

    canvases, expected = [], []
    for x in data.load("mnist").test.images[:n]:
        big = F.interpolate(
            x.reshape(1, 1, 28, 28),
            scale_factor=5,
            mode="bilinear",
            align_corners=False,
        )
        canvas = torch.zeros(200, 240)
        canvas[30:170, 70:210] = big[0, 0].clamp(0, 1)
        canvases.append(canvas)
        expected.append(drawing.to_mnist(canvas))
    return canvases, expected


def _relative_error(page: list[list[float]], python) -> float:
    import torch

    got = torch.tensor(page, dtype=torch.float64)
    want = python.double()
    return float((got - want).abs().max() / want.abs().max())


def _stroke_mouse(page) -> None:
    box = page.locator(".wbbook-explorer-canvas").bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + step * 0.01 * box["width"], y + step * 0.06 * box["height"])
    page.mouse.up()


def _stroke_touch(page, context) -> None:
    box = page.locator(".wbbook-explorer-canvas").bounding_box()
    cdp = context.new_cdp_session(page)
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.2
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]},
    )
    for step in range(1, 11):
        point = {"x": x, "y": y + step * 0.06 * box["height"]}
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def _answers_a_stroke(page) -> list[str]:
    """A drawn stroke gets a verdict and terms, and the input the models got is what
    :func:`wbinterp.drawing.to_mnist` makes of the canvas."""
    import torch

    from wbinterp import drawing

    page.wait_for_function(
        "() => document.querySelector('.wbbook-explorer-verdict').textContent.startsWith('Your drawing')",
        timeout=5_000,
    )
    problems = []
    if page.locator(".wbbook-explorer-terms figure").count() == 0:
        problems.append("a drawn digit gets a verdict but no terms")
    # after the frame that handles the last pointer event
    drawn = page.evaluate(
        f"async () => {{ await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))); "
        f"return {API}.drawn(); }}"
    )
    gray = torch.tensor(drawn["gray"], dtype=torch.float64).reshape(
        drawn["height"], drawn["width"]
    )
    want = drawing.to_mnist(gray)
    if (
        drawn["input"] is None
        or (torch.tensor(drawn["input"]) - want).abs().max() > 1e-5
    ):
        problems.append(
            "the models' input differs from wbinterp.drawing.to_mnist of the canvas"
        )
    return problems


def _audit(page, axe: str | None, where: str) -> tuple[list[str], str]:
    """axe-core's serious failures on ``page`` as it stands, each prefixed by ``where``, and
    its summary line (nothing without axe's script)."""
    from .browser_check import AXE_RESULT, axe_report, start_axe

    if axe is None:
        return [], ""
    start_axe(page, axe)
    failures, summary = axe_report(page.evaluate(AXE_RESULT))
    return [f"{where}: {f}" for f in failures], summary


def check_live(
    browser, base: str, rel: str, axe: str | None = None, timeout_ms: int = 60_000
):
    """The live explorer on a desktop and on a phone: problems and a summary line."""
    problems: list[str] = []
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = open_ready(context, f"{base}/{rel}", timeout_ms)
        api = page.evaluate(
            f"async () => {{ const a = await {API}.ready; return a && {{error: a.error}}; }}"
        )
        if api is None or api.get("error"):
            return [
                f"the explorer did not load its models: {api and api.get('error')}"
            ], ""
        n = page.evaluate(f"() => {API}.images")
        if n < N_IMAGES:
            problems.append(
                f"the explorer lists {n} test images, fewer than {N_IMAGES}"
            )
        indices = page.evaluate(
            f"(n) => Array.from({{length: n}}, (_, i) => {API}.index(i))",
            min(n, N_IMAGES),
        )
        x, want = reference(indices)
        got = page.evaluate(
            f"(images) => images.map(p => {API}.logits(p))", [row.tolist() for row in x]
        )
        errors = {
            name: _relative_error([g[name] for g in got], want[name]) for name in want
        }
        for name, error in errors.items():
            if error > TOLERANCE:
                problems.append(
                    f"the page's {name} logits differ from the package's by {error:.1e} of the largest"
                )
        canvases, expected = rerendered()
        worst = 0.0
        for canvas, field in zip(canvases, expected):
            h, w = canvas.shape
            made = page.evaluate(
                f"([g, w, h]) => {API}.preprocess(g, w, h)",
                [canvas.flatten().tolist(), w, h],
            )
            worst = max(worst, max(abs(a - b) for a, b in zip(made, field.tolist())))
        if worst > 1e-5:
            problems.append(
                f"the page's preprocessing differs from wbinterp.drawing.to_mnist by {worst:.1e}"
            )
        times = [page.evaluate(f"(p) => {API}.show(p)", row.tolist()) for row in x[:20]]
        median_ms = statistics.median(times)
        if median_ms > BUDGET_MS:
            problems.append(
                f"a full update takes {median_ms:.0f} ms, over {BUDGET_MS:.0f} ms"
            )
        line = page.locator(".wbbook-explorer-line").first
        before = line.inner_text()
        slider = page.locator(".wbbook-explorer-view input[type=range]").first
        slider.fill(slider.get_attribute("max"))
        if line.inner_text() == before:
            problems.append(
                "moving the eigenvector slider does not change what the page says"
            )
        page.locator(".wbbook-explorer-clear").click()
        if (
            "Draw a digit"
            not in page.locator(".wbbook-explorer-verdict").first.inner_text()
        ):
            problems.append("an empty canvas does not ask for a digit")
        _stroke_mouse(page)
        problems += [f"mouse: {p}" for p in _answers_a_stroke(page)]
        failures, severe = _audit(page, axe, "live explorer")
        problems += failures
    finally:
        context.close()
    # a phone in dark mode: a stroke of a finger, and axe on what it shows
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, color_scheme="dark"
    )
    try:
        page = open_ready(context, f"{base}/{rel}", timeout_ms)
        page.locator(".wbbook-explorer-canvas").scroll_into_view_if_needed()
        _stroke_touch(page, context)
        problems += [f"phone, touch: {p}" for p in _answers_a_stroke(page)]
        problems += _audit(page, axe, "phone, dark mode")[0]
    finally:
        context.close()
    summary = (
        f"logits within {max(errors.values()):.1e} of the largest on {len(indices)} images; "
        f"preprocessing within {worst:.0e}; a full update {median_ms:.1f} ms"
    )
    return problems, summary + (f"\n     {severe}" if severe else "")


def check_fallback(browser, base: str, rel: str, timeout_ms: int = 30_000) -> list[str]:
    """With the transcoder's file corrupted on the way, the page must say so and show the
    precomputed images, whose list and sliders answer."""
    context = browser.new_context(viewport=DESKTOP)
    try:

        def corrupt(route):
            response = route.fetch()
            body = bytearray(response.body())
            body[-1] ^= 0xFF
            route.fulfill(response=response, body=bytes(body))

        context.route("**/transcoder-*.safetensors.gz", corrupt)
        page = open_ready(context, f"{base}/{rel}", timeout_ms)
        status = page.locator(".wbbook-explorer-status").inner_text()
        if (
            "SHA-256" not in status
            or page.locator(".wbbook-explorer[data-mode='precomputed']").count() != 1
        ):
            return [
                f"a corrupted weight file is not reported, or no fallback is shown: {status!r}"
            ]
        verdicts = page.locator(".wbbook-explorer-verdict")
        if verdicts.count() == 0 or page.locator(".wbbook-explorer-row").count() == 0:
            return ["the fallback shows no verdict or no logits"]
        problems = []
        before = verdicts.first.inner_text()
        slider = page.locator(".wbbook-explorer-view input[type=range]").first
        slider.fill(slider.get_attribute("max"))
        at_max = verdicts.first.inner_text()
        if at_max == before:
            problems.append("fallback: moving the slider does not change the verdict")
        select = page.locator(".wbbook-explorer select")
        select.select_option(index=select.locator("option").count() - 1)
        if verdicts.first.inner_text() == at_max:
            problems.append(
                "fallback: choosing another image does not change the verdict"
            )
        return problems
    finally:
        context.close()
