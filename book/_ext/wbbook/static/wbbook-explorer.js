// The book's explorer ("Explain a digit"): a test image, and for each reading of the model
// (eigenvectors per digit, transcoder features per image) a slider that adds the terms one
// at a time and shows the ten logits and the prediction. The data are computed when the
// book is built (wbinterp.explorer) and sit in the page as JSON; nothing runs on a server.
(function () {
  "use strict";

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function argmax(values) {
    let best = 0;
    values.forEach((v, i) => { if (v > values[best]) best = i; });
    return best;
  }

  function drawDigit(canvas, pixels) {
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(28, 28);
    pixels.forEach((p, i) => {
      const v = 255 - p;  // ink dark on white
      image.data.set([v, v, v, 255], 4 * i);
    });
    ctx.putImageData(image, 0, 0);
  }

  function view(root, data, spec, state, number) {
    const box = el("fieldset", { class: "wbbook-explorer-view" });
    box.appendChild(el("legend", {}, spec.name));
    const id = `${root.id}-view-${number}`;
    const steps = spec.curves[0].length - 1;
    const label = el("label", { for: `${id}-k` }, `${spec.unit || "terms"} kept: `);
    const slider = el("input", {
      type: "range", id: `${id}-k`, min: "0", max: String(steps), step: "1",
      value: String(Math.min(steps, spec.start || 1)),
    });
    const shown = el("output", { for: `${id}-k`, class: "wbbook-explorer-k" });
    label.appendChild(shown);
    const verdict = el("p", { class: "wbbook-explorer-verdict", "aria-live": "polite" });
    const bars = el("div", { class: "wbbook-explorer-bars", role: "list" });
    box.append(label, slider, verdict, bars);
    root.appendChild(box);

    function render() {
      const k = Number(slider.value);
      const image = state.image;
      const logits = spec.curves[image][k];
      const full = spec.full[image];
      const truth = data.images[image].label;
      shown.textContent = String(k);
      const predicted = k === 0 ? null : argmax(logits);
      const fullPrediction = argmax(full);
      verdict.textContent = (predicted === null
        ? "with nothing kept there is no prediction"
        : `with ${k} kept: predicts ${data.classes[predicted]}`) +
        ` (the whole model: ${data.classes[fullPrediction]}; the image is a ${data.classes[truth]})`;
      const scale = Math.max(1e-9, ...full.map(Math.abs), ...logits.map(Math.abs));
      bars.replaceChildren(...logits.map((v, c) => {
        const row = el("div", { class: "wbbook-explorer-row", role: "listitem" });
        row.appendChild(el("span", { class: "wbbook-explorer-class" }, data.classes[c]));
        const track = el("span", { class: "wbbook-explorer-track" });
        const bar = el("span", {
          class: "wbbook-explorer-bar" + (v < 0 ? " negative" : "") + (c === predicted ? " predicted" : ""),
        });
        bar.style.width = `${(50 * Math.abs(v)) / scale}%`;
        bar.style.left = v < 0 ? `${50 - (50 * Math.abs(v)) / scale}%` : "50%";
        track.appendChild(bar);
        row.append(track, el("span", { class: "wbbook-explorer-value" }, v.toFixed(2)));
        return row;
      }));
    }
    slider.addEventListener("input", render);
    return render;
  }

  function explorer(root) {
    const source = document.getElementById(root.dataset.source);
    if (!source) return;
    const data = JSON.parse(source.textContent);
    const state = { image: 0 };
    const top = el("div", { class: "wbbook-explorer-top" });
    const pick = el("label", { for: `${root.id}-image` }, "Test image: ");
    const select = el("select", { id: `${root.id}-image` });
    data.images.forEach((image, i) => {
      select.appendChild(el("option", { value: String(i) }, `#${image.index}, a ${data.classes[image.label]}`));
    });
    pick.appendChild(select);
    const canvas = el("canvas", { width: "28", height: "28", class: "wbbook-explorer-digit", role: "img" });
    top.append(pick, canvas);
    root.appendChild(top);
    const renders = data.views.map((spec, i) => view(root, data, spec, state, i));
    function show() {
      state.image = Number(select.value);
      const image = data.images[state.image];
      drawDigit(canvas, image.pixels);
      canvas.setAttribute("aria-label", `test image #${image.index}, a handwritten ${data.classes[image.label]}`);
      renders.forEach((render) => render());
    }
    select.addEventListener("change", show);
    show();
    root.dataset.ready = "true";
  }

  function start() {
    document.querySelectorAll(".wbbook-explorer").forEach(explorer);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
