// The book's explorer ("Explain a digit"). The page fetches the models the build exported
// (wbinterp.explorer.export: safetensors files listed with their SHA-256 in explorer.json),
// checks them, and runs them here on a digit the reader draws or picks: the bilinear model
// exactly, read term by term through each digit's eigenvectors, and the ReLU MLP read through
// its transcoder. When the models cannot be fetched or checked, it says so in one line and
// shows the precomputed images instead (the JSON beside the page). Nothing runs on a server.
// window.wbinterpExplorer is the test API the browser check drives.
(function () {
  "use strict";

  const SIDE = 28, BOX = 20, CENTRE = 14, CANVAS = 280, PEN = 22;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function argmax(values) {
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return best;
  }

  function runnerUp(values, first) {
    let best = first === 0 ? 1 : 0;
    for (let i = 0; i < values.length; i++) if (i !== first && values[i] > values[best]) best = i;
    return best;
  }

  // ---- the files: gzipped safetensors (an 8-byte header length, a JSON header, the data) ----

  function halfToFloat(bits) {
    const sign = bits & 0x8000 ? -1 : 1, exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff;
    if (exponent === 0) return sign * fraction * 2 ** -24;
    if (exponent === 31) return fraction ? NaN : sign * Infinity;
    return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }

  function parseSafetensors(buffer) {
    const view = new DataView(buffer);
    const length = Number(view.getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, length)));
    const start = 8 + length, tensors = {};
    for (const [name, info] of Object.entries(header)) {
      if (name === "__metadata__") continue;
      const [begin, end] = info.data_offsets;
      const bytes = buffer.slice(start + begin, start + end);  // a copy, so aligned
      let data;
      if (info.dtype === "F32") data = new Float32Array(bytes);
      else if (info.dtype === "U8") data = new Uint8Array(bytes);
      else if (info.dtype === "I32") data = new Int32Array(bytes);
      else if (info.dtype === "F16") data = Float32Array.from(new Uint16Array(bytes), halfToFloat);
      else throw new Error(`unexpected dtype ${info.dtype} for ${name}`);
      tensors[name] = { shape: info.shape, data };
    }
    // tensors stored as 24-bit floats: three byte planes (low first) of the high 24 bits
    const float24 = JSON.parse((header.__metadata__ || {}).float24 || "{}");
    for (const [name, shape] of Object.entries(float24)) {
      const planes = tensors[name].data, n = planes.length / 3, bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = ((planes[i] << 8) | (planes[n + i] << 16) | (planes[2 * n + i] << 24)) >>> 0;
      tensors[name] = { shape, data: new Float32Array(bits.buffer) };
    }
    return tensors;
  }

  async function gunzip(buffer) {
    if (!window.DecompressionStream) throw new Error("this browser cannot decompress the weights");
    const stream = new Blob([buffer]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
  }

  async function sha256(buffer) {
    const digest = await crypto.subtle.digest("SHA-256", buffer);
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function fetchModels(manifestUrl) {
    if (!(window.crypto && crypto.subtle)) {
      throw new Error("this page is not served over https or from localhost, so the weights cannot be checked");
    }
    let response = await fetch(manifestUrl, { cache: "no-cache" });
    if (!response.ok) throw new Error(`the models' list could not be fetched (HTTP ${response.status})`);
    const manifest = await response.json();
    if (manifest.format !== "wbinterp-explorer/1") throw new Error(`unknown format ${manifest.format}`);
    const parts = {};
    await Promise.all(Object.entries(manifest.files).map(async ([name, entry]) => {
      const url = new URL(entry.path, manifestUrl);
      // content-addressed names: a cached copy is the same file
      response = await fetch(url, { cache: "force-cache" });
      if (!response.ok) throw new Error(`${entry.path} could not be fetched (HTTP ${response.status})`);
      const buffer = await response.arrayBuffer();
      if (buffer.byteLength !== entry.bytes || (await sha256(buffer)) !== entry.sha256) {
        throw new Error(`${entry.path} failed its SHA-256 check`);
      }
      parts[name] = parseSafetensors(await gunzip(buffer));
    }));
    return { manifest, parts };
  }

  // ---- a drawing made into an MNIST input (the same steps as wbinterp.drawing.to_mnist) ----

  function roundHalfUp(x) { return Math.floor(x + 0.5); }

  function areaWeights(nIn, nOut) {
    const s = nIn / nOut, rows = [];
    for (let i = 0; i < nOut; i++) {
      const lo = i * s, hi = (i + 1) * s, row = new Float64Array(nIn);
      for (let j = Math.floor(lo); j < Math.min(nIn, Math.ceil(hi)); j++) {
        row[j] = (Math.min(hi, j + 1) - Math.max(lo, j)) / s;
      }
      rows.push(row);
    }
    return rows;
  }

  // gray: width × height grey levels in [0, 1], row by row (ink 1); null when empty
  function toMnist(gray, width, height) {
    let top = height, bottom = -1, left = width, right = -1;
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        if (gray[r * width + c] > 0) {
          if (r < top) top = r;
          if (r > bottom) bottom = r;
          if (c < left) left = c;
          if (c > right) right = c;
        }
      }
    }
    if (bottom < 0) return null;
    const h = bottom - top + 1, w = right - left + 1, scale = BOX / Math.max(h, w);
    const hOut = Math.max(1, roundHalfUp(h * scale)), wOut = Math.max(1, roundHalfUp(w * scale));
    const rowW = areaWeights(h, hOut), colW = areaWeights(w, wOut);
    // (rowW · ink) · colWᵀ, skipping the zero weights
    const tmp = new Float64Array(hOut * w);
    for (let i = 0; i < hOut; i++) {
      for (let r = 0; r < h; r++) {
        const a = rowW[i][r];
        if (a === 0) continue;
        const base = (top + r) * width + left;
        for (let c = 0; c < w; c++) tmp[i * w + c] += a * gray[base + c];
      }
    }
    const small = new Float64Array(hOut * wOut);
    for (let i = 0; i < hOut; i++) {
      for (let j = 0; j < wOut; j++) {
        let sum = 0;
        const weights = colW[j];
        for (let c = 0; c < w; c++) if (weights[c] !== 0) sum += tmp[i * w + c] * weights[c];
        small[i * wOut + j] = sum;
      }
    }
    let mass = 0, rowMoment = 0, colMoment = 0;
    for (let i = 0; i < hOut; i++) {
      for (let j = 0; j < wOut; j++) {
        const v = small[i * wOut + j];
        mass += v;
        rowMoment += i * v;
        colMoment += j * v;
      }
    }
    const offR = roundHalfUp(CENTRE - rowMoment / mass), offC = roundHalfUp(CENTRE - colMoment / mass);
    const field = new Float32Array(SIDE * SIDE);
    for (let i = 0; i < hOut; i++) {
      for (let j = 0; j < wOut; j++) {
        const r = i + offR, c = j + offC;
        if (r >= 0 && r < SIDE && c >= 0 && c < SIDE) field[r * SIDE + c] = Math.min(1, Math.max(0, small[i * wOut + j]));
      }
    }
    return field;
  }

  // ---- the models ----

  function matVec(m, rows, cols, x, out) {  // out = M x, M row-major (rows × cols)
    for (let i = 0; i < rows; i++) {
      let sum = 0;
      const base = i * cols;
      for (let j = 0; j < cols; j++) sum += m[base + j] * x[j];
      out[i] = sum;
    }
    return out;
  }

  function matTVec(m, rows, cols, y, out) {  // out = Mᵀ y
    out.fill(0);
    for (let i = 0; i < rows; i++) {
      const a = y[i];
      if (a === 0) continue;
      const base = i * cols;
      for (let j = 0; j < cols; j++) out[j] += a * m[base + j];
    }
    return out;
  }

  function models(manifest, parts) {
    const b = parts.bilinear, m = parts.mlp, t = parts.transcoder;
    const [d, nIn] = b.w_e.shape, nClasses = b.w_u.shape[0], [nEig] = b.eigenvalues.shape.slice(1);
    const [hidden] = m.w_in.shape, [nFeatures] = t.w_enc.shape;
    const k = manifest.transcoder.activation === "topk" ? manifest.transcoder.k : nFeatures;

    function bilinear(x) {
      const h = matVec(b.w_e.data, d, nIn, x, new Float64Array(d));
      const left = matVec(b.w_l.data, d, d, h, new Float64Array(d));
      const right = matVec(b.w_r.data, d, d, h, new Float64Array(d));
      const g = left.map((l, i) => l * right[i]);
      const logits = matVec(b.w_u.data, nClasses, d, g, new Float64Array(nClasses));
      return { h, left, right, logits };
    }

    // terms[c][i] = λ_ci (v_ci · h)², the eigenvectors of largest |λ| first
    function terms(h) {
      const out = [];
      for (let c = 0; c < nClasses; c++) {
        const row = new Float64Array(nEig);
        for (let i = 0; i < nEig; i++) {
          const base = (c * nEig + i) * d;
          let p = 0;
          for (let n = 0; n < d; n++) p += b.eigenvectors.data[base + n] * h[n];
          row[i] = b.eigenvalues.data[c * nEig + i] * p * p;
        }
        out.push(row);
      }
      return out;
    }

    function eigenPicture(c, i) {  // W_eᵀ v_ci: the eigenvector in pixels
      const v = b.eigenvectors.data.subarray((c * nEig + i) * d, (c * nEig + i + 1) * d);
      return matTVec(b.w_e.data, d, nIn, v, new Float64Array(nIn));
    }

    // x_j (W_eᵀ Q h)_j with Q = Q_p − Q_r: sums to the margin logit_p − logit_r exactly
    function marginPixels(x, run, p, r) {
      const a = new Float64Array(d);
      for (let n = 0; n < d; n++) a[n] = b.w_u.data[p * d + n] - b.w_u.data[r * d + n];
      const qh = matTVec(b.w_l.data, d, d, a.map((v, n) => v * run.right[n]), new Float64Array(d));
      const other = matTVec(b.w_r.data, d, d, a.map((v, n) => v * run.left[n]), new Float64Array(d));
      for (let n = 0; n < d; n++) qh[n] = (qh[n] + other[n]) / 2;
      const pixels = matTVec(b.w_e.data, d, nIn, qh, new Float64Array(nIn));
      return pixels.map((v, j) => v * x[j]);
    }

    function mlp(x) {
      const hid = matVec(m.w_in.data, hidden, nIn, x, new Float64Array(hidden));
      for (let n = 0; n < hidden; n++) hid[n] = Math.max(0, hid[n] + (m.b_in ? m.b_in.data[n] : 0));
      const logits = matVec(m.w_out.data, nClasses, hidden, hid, new Float64Array(nClasses));
      if (m.b_out) for (let c = 0; c < nClasses; c++) logits[c] += m.b_out.data[c];
      return logits;
    }

    // the active features, largest first: [{feature, activation}]
    function features(x) {
      const centred = Float64Array.from(x, (v, j) => v - t.b_pre.data[j]);
      const pre = matVec(t.w_enc.data, nFeatures, nIn, centred, new Float64Array(nFeatures));
      for (let f = 0; f < nFeatures; f++) pre[f] += t.b_enc.data[f];
      const order = Array.from(pre.keys()).sort((i, j) => pre[j] - pre[i]).slice(0, k);
      return order.filter((f) => pre[f] > 0).map((f) => ({ feature: f, activation: pre[f] }));
    }

    function spliced(active, n) {  // readout f + readout_bias with each image's n largest features
      const logits = Float64Array.from(t.readout_bias.data);
      for (const { feature, activation } of active.slice(0, n)) {
        for (let c = 0; c < nClasses; c++) logits[c] += t.readout.data[c * nFeatures + feature] * activation;
      }
      return logits;
    }

    function featurePicture(f) { return t.w_enc.data.subarray(f * nIn, (f + 1) * nIn); }
    function contribution(f, activation, c) { return t.readout.data[c * nFeatures + f] * activation; }

    return { d, nEig, k, bilinear, terms, eigenPicture, marginPixels, mlp, features, spliced, featurePicture, contribution };
  }

  // ---- drawing on the page ----

  function drawDigit(canvas, pixels) {  // pixels: 784 grey levels in [0, 1]
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(SIDE, SIDE);
    for (let i = 0; i < SIDE * SIDE; i++) {
      const v = Math.round(255 * (1 - pixels[i]));  // ink dark on white
      image.data.set([v, v, v, 255], 4 * i);
    }
    ctx.putImageData(image, 0, 0);
  }

  function drawSigned(canvas, values) {  // blue for, red against, white at zero
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(SIDE, SIDE);
    let scale = 1e-12;
    for (const v of values) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < SIDE * SIDE; i++) {
      const a = Math.min(1, Math.abs(values[i]) / scale);
      const [r, g, bl] = values[i] >= 0 ? [33, 102, 172] : [178, 24, 43];
      image.data.set([255 - a * (255 - r), 255 - a * (255 - g), 255 - a * (255 - bl), 255], 4 * i);
    }
    ctx.putImageData(image, 0, 0);
  }

  function bars(container, logits, classes, predicted, scaleWith) {
    const scale = Math.max(1e-9, ...Array.from(scaleWith || logits, Math.abs), ...Array.from(logits, Math.abs));
    container.replaceChildren(...Array.from(logits, (v, c) => {
      const row = el("div", { class: "wbbook-explorer-row", role: "listitem" });
      row.appendChild(el("span", { class: "wbbook-explorer-class" }, classes[c]));
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

  function picture(values, label, caption, votes) {
    const figure = el("figure", { class: "wbbook-explorer-term" });
    const canvas = el("canvas", { width: String(SIDE), height: String(SIDE), role: "img", "aria-label": label });
    drawSigned(canvas, values);
    figure.appendChild(canvas);
    if (votes) figure.appendChild(voteBars(votes.values, votes.classes));
    figure.appendChild(el("figcaption", {}, caption));
    return figure;
  }

  // what one feature adds to each of the ten logits: a bar per digit, up blue, down red
  function voteBars(values, classes) {
    const width = 84, height = 30, canvas = el("canvas", {
      width: String(width), height: String(height), class: "wbbook-explorer-votes", role: "img",
      "aria-label": "adds to the logits: " + Array.from(values, (v, c) => `${classes[c]} ${v >= 0 ? "+" : ""}${v.toFixed(2)}`).join(", "),
    });
    const ctx = canvas.getContext("2d"), scale = Math.max(1e-9, ...Array.from(values, Math.abs));
    const step = width / values.length;
    ctx.fillStyle = "#888";
    ctx.fillRect(0, height / 2, width, 1);
    values.forEach((v, c) => {
      const h = ((height / 2 - 1) * Math.abs(v)) / scale;
      ctx.fillStyle = v >= 0 ? "#2166ac" : "#b2182b";
      ctx.fillRect(c * step + 1, v >= 0 ? height / 2 - h : height / 2 + 1, step - 2, h);
    });
    return canvas;
  }

  function slider(parent, id, text, min, max, value) {
    const label = el("label", { for: id }, text);
    const input = el("input", { type: "range", id, min: String(min), max: String(max), step: "1", value: String(value) });
    const shown = el("output", { for: id, class: "wbbook-explorer-k" }, String(value));
    label.appendChild(shown);
    input.addEventListener("input", () => { shown.textContent = input.value; });
    parent.append(label, input);
    return input;
  }

  // ---- the live explorer ----

  function live(root, manifest, parts) {
    const run = models(manifest, parts);
    const classes = manifest.classes, images = parts.images;
    const nImages = images.labels.data.length;
    const id = root.id;
    const state = { pixels: null, source: "" };

    const top = el("div", { class: "wbbook-explorer-top" });
    const pad = el("div", { class: "wbbook-explorer-pad" });
    const canvas = el("canvas", {
      width: String(CANVAS), height: String(CANVAS), class: "wbbook-explorer-canvas", role: "img",
      "aria-label": "Drawing area: draw a digit with a mouse, a pen or a finger, or pick a test image from the list",
    });
    const clear = el("button", { type: "button", class: "wbbook-explorer-clear" }, "Clear");
    pad.append(canvas, clear);
    const side = el("div", { class: "wbbook-explorer-side" });
    const pick = el("label", { for: `${id}-image` }, "Or pick a test image: ");
    const select = el("select", { id: `${id}-image` });
    select.appendChild(el("option", { value: "" }, "(your drawing)"));
    for (let i = 0; i < nImages; i++) {
      select.appendChild(el("option", { value: String(i) },
        `#${images.indices.data[i]}, a ${classes[images.labels.data[i]]}`));
    }
    pick.appendChild(select);
    const seen = el("canvas", { width: String(SIDE), height: String(SIDE), class: "wbbook-explorer-digit", role: "img", "aria-label": "what the models see: nothing yet" });
    side.append(pick, el("p", { class: "wbbook-explorer-note" }, "What the models see (28 × 28):"), seen);
    top.append(pad, side);

    const verdict = el("p", { class: "wbbook-explorer-verdict", "aria-live": "polite" });

    const bBox = el("fieldset", { class: "wbbook-explorer-view" });
    bBox.appendChild(el("legend", {}, "Bilinear model: eigenvectors per digit"));
    const kSlider = slider(bBox, `${id}-eig`, "eigenvectors kept per digit: ", 1, run.nEig, Math.min(3, run.nEig));
    const bVerdict = el("p", { class: "wbbook-explorer-line" });
    const bBars = el("div", { class: "wbbook-explorer-bars", role: "list" });
    const bTerms = el("div", { class: "wbbook-explorer-terms" });
    bBox.append(bVerdict, bBars, bTerms);

    const tBox = el("fieldset", { class: "wbbook-explorer-view" });
    tBox.appendChild(el("legend", {}, "ReLU MLP through its transcoder: features per image"));
    const nSlider = slider(tBox, `${id}-features`, "features kept: ", 0, run.k, Math.min(5, run.k));
    const tVerdict = el("p", { class: "wbbook-explorer-line" });
    const tBars = el("div", { class: "wbbook-explorer-bars", role: "list" });
    const tTerms = el("div", { class: "wbbook-explorer-terms" });
    tBox.append(tVerdict, tBars, tTerms);

    root.append(top, verdict, bBox, tBox);

    function evaluate(x) {
      const b = run.bilinear(x);
      const active = run.features(x);
      return { b, mlp: run.mlp(x), active, spliced: run.spliced(active, active.length) };
    }

    function render() {
      const x = state.pixels;
      if (x === null) {
        drawDigit(seen, new Float32Array(SIDE * SIDE));
        seen.setAttribute("aria-label", "what the models see: nothing yet");
        verdict.textContent = "Draw a digit in the box, or pick a test image.";
        for (const node of [bVerdict, bBars, bTerms, tVerdict, tBars, tTerms]) node.replaceChildren();
        return;
      }
      drawDigit(seen, x);
      seen.setAttribute("aria-label", `what the models see: ${state.source}`);
      const out = evaluate(x);
      const p = argmax(out.b.logits), r = runnerUp(out.b.logits, p);
      const pm = argmax(out.mlp), ps = argmax(out.spliced);
      verdict.textContent = `${state.source}: the bilinear model says ${classes[p]} (runner-up ${classes[r]}); ` +
        `the ReLU MLP says ${classes[pm]}, and through its transcoder ${classes[ps]}.`;

      // the bilinear model, term by term
      const k = Number(kSlider.value), terms = run.terms(out.b.h);
      const truncated = terms.map((row) => row.slice(0, k).reduce((s, v) => s + v, 0));
      const pk = argmax(truncated);
      const margin = out.b.logits[p] - out.b.logits[r];
      bVerdict.textContent = `With ${k} of ${run.d} eigenvectors per digit kept: ${classes[pk]}; ` +
        `the whole model: ${classes[p]}, by a margin of ${margin.toFixed(2)} over ${classes[r]}.`;
      bars(bBars, Float64Array.from(truncated), classes, pk, out.b.logits);
      const shown = [];
      for (const [c, sign] of [[p, 1], [r, -1]]) {
        const order = Array.from(terms[c].keys()).sort((i, j) => Math.abs(terms[c][j]) - Math.abs(terms[c][i]));
        for (const i of order.slice(0, 3)) {
          const share = (100 * sign * terms[c][i]) / margin;
          shown.push(picture(run.eigenPicture(c, i), `eigenvector ${i + 1} of digit ${classes[c]} in pixels`,
            `${classes[c]}, v${i + 1}: ${terms[c][i] >= 0 ? "+" : ""}${terms[c][i].toFixed(2)} ` +
            `(${share >= 0 ? "+" : ""}${share.toFixed(0)} % of the margin)`));
        }
      }
      shown.push(picture(run.marginPixels(x, out.b, p, r), `pixels for ${classes[p]} (blue) and for ${classes[r]} (red)`,
        `pixels: for ${classes[p]} (blue), for ${classes[r]} (red)`));
      bTerms.replaceChildren(...shown);

      // the MLP through its transcoder
      const n = Number(nSlider.value), kept = run.spliced(out.active, n), pn = argmax(kept);
      tVerdict.textContent = `With ${n} of ${out.active.length} active features kept: ${classes[pn]}; ` +
        `all of them: ${classes[ps]}; the MLP itself: ${classes[pm]}.`;
      bars(tBars, kept, classes, pn, out.spliced);
      tTerms.replaceChildren(...out.active.slice(0, Math.max(1, Math.min(n, 6))).map(({ feature, activation }) => {
        const votes = classes.map((_, c) => run.contribution(feature, activation, c));
        const toP = votes[ps];
        return picture(run.featurePicture(feature), `encoder row of feature ${feature}`,
          `feature ${feature}: ${activation.toFixed(2)}, ${toP >= 0 ? "+" : ""}${toP.toFixed(2)} to ${classes[ps]}`,
          { values: votes, classes });
      }));
    }

    // drawing: pointer events cover the mouse, pens and touch
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    let drawing = false, last = null, pending = false;
    function point(event) {
      const box = canvas.getBoundingClientRect();
      return [((event.clientX - box.left) * CANVAS) / box.width, ((event.clientY - box.top) * CANVAS) / box.height];
    }
    function stroke(to) {
      ctx.lineWidth = PEN;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#000";
      ctx.beginPath();
      ctx.moveTo(...(last || to));
      ctx.lineTo(...to);
      ctx.stroke();
      last = to;
    }
    function canvasGray() {  // the drawing's ink: the canvas's alpha channel, in [0, 1]
      const rgba = ctx.getImageData(0, 0, CANVAS, CANVAS).data;
      const gray = new Float64Array(CANVAS * CANVAS);
      for (let i = 0; i < gray.length; i++) gray[i] = rgba[4 * i + 3] / 255;
      return gray;
    }
    function fromCanvas() {
      state.pixels = toMnist(canvasGray(), CANVAS, CANVAS);
      state.source = "Your drawing";
      select.value = "";
      render();
    }
    function schedule() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; fromCanvas(); });
    }
    canvas.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = null;
      stroke(point(event));
      schedule();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      event.preventDefault();
      stroke(point(event));
      schedule();
    });
    for (const name of ["pointerup", "pointercancel"]) {
      canvas.addEventListener(name, () => { drawing = false; last = null; });
    }
    clear.addEventListener("click", () => {
      ctx.clearRect(0, 0, CANVAS, CANVAS);
      state.pixels = null;
      select.value = "";
      render();
    });
    function showImage(i) {
      state.pixels = Float32Array.from(images.pixels.data.subarray(i * SIDE * SIDE, (i + 1) * SIDE * SIDE), (v) => v / 255);
      state.source = `Test image #${images.indices.data[i]} (a ${classes[images.labels.data[i]]})`;
      ctx.clearRect(0, 0, CANVAS, CANVAS);
      render();
    }
    select.addEventListener("change", () => {
      if (select.value === "") return;
      showImage(Number(select.value));
    });
    kSlider.addEventListener("input", render);
    nSlider.addEventListener("input", render);
    render();

    return {
      logits(pixels) {
        const out = evaluate(Float64Array.from(pixels));
        return { bilinear: Array.from(out.b.logits), mlp: Array.from(out.mlp), spliced: Array.from(out.spliced) };
      },
      preprocess(gray, width, height) {
        const field = toMnist(gray, width, height);
        return field === null ? null : Array.from(field);
      },
      show(pixels) {  // a full update, as a redraw makes it; returns its time in ms
        const start = performance.now();
        state.pixels = Float32Array.from(pixels);
        state.source = "An image given to the page";
        render();
        return performance.now() - start;
      },
      image(i) { return Array.from(images.pixels.data.subarray(i * SIDE * SIDE, (i + 1) * SIDE * SIDE), (v) => v / 255); },
      index(i) { return images.indices.data[i]; },
      drawn() {  // the drawing on the canvas and the input the models were given
        return { gray: Array.from(canvasGray()), width: CANVAS, height: CANVAS, input: state.pixels && Array.from(state.pixels) };
      },
      images: nImages,
    };
  }

  // ---- the precomputed images: what the page shows when the models cannot be fetched ----

  function view(root, data, spec, state, number) {
    const box = el("fieldset", { class: "wbbook-explorer-view" });
    box.appendChild(el("legend", {}, spec.name));
    const id = `${root.id}-view-${number}`;
    const steps = spec.curves[0].length - 1;
    const label = el("label", { for: `${id}-k` }, `${spec.unit || "terms"} kept: `);
    const input = el("input", {
      type: "range", id: `${id}-k`, min: "0", max: String(steps), step: "1",
      value: String(Math.min(steps, spec.start || 1)),
    });
    const shown = el("output", { for: `${id}-k`, class: "wbbook-explorer-k" });
    label.appendChild(shown);
    const verdict = el("p", { class: "wbbook-explorer-verdict", "aria-live": "polite" });
    const barList = el("div", { class: "wbbook-explorer-bars", role: "list" });
    box.append(label, input, verdict, barList);
    root.appendChild(box);

    function render() {
      const k = Number(input.value);
      const logits = spec.curves[state.image][k];
      const full = spec.full[state.image];
      const truth = data.images[state.image].label;
      shown.textContent = String(k);
      const predicted = k === 0 ? null : argmax(logits);
      verdict.textContent = (predicted === null
        ? "with nothing kept there is no prediction"
        : `with ${k} kept: predicts ${data.classes[predicted]}`) +
        ` (the whole model: ${data.classes[argmax(full)]}; the image is a ${data.classes[truth]})`;
      bars(barList, logits, data.classes, predicted, full);
    }
    input.addEventListener("input", render);
    return render;
  }

  function precomputed(root, data) {
    const state = { image: 0 };
    const top = el("div", { class: "wbbook-explorer-top" });
    const pick = el("label", { for: `${root.id}-image` }, "Test image: ");
    const select = el("select", { id: `${root.id}-image` });
    data.images.forEach((image, i) => {
      select.appendChild(el("option", { value: String(i) }, `#${image.index}, a ${data.classes[image.label]}`));
    });
    pick.appendChild(select);
    const canvas = el("canvas", { width: String(SIDE), height: String(SIDE), class: "wbbook-explorer-digit", role: "img" });
    top.append(pick, canvas);
    root.appendChild(top);
    const renders = data.views.map((spec, i) => view(root, data, spec, state, i));
    function show() {
      state.image = Number(select.value);
      const image = data.images[state.image];
      drawDigit(canvas, image.pixels.map((p) => p / 255));
      canvas.setAttribute("aria-label", `test image #${image.index}, a handwritten ${data.classes[image.label]}`);
      renders.forEach((render) => render());
    }
    select.addEventListener("change", show);
    show();
  }

  async function explorer(root) {
    const status = el("p", { class: "wbbook-explorer-status", role: "status" }, "Loading the models…");
    root.appendChild(status);
    const content = document.documentElement.dataset.content_root || "";
    const manifestUrl = new URL(content + root.dataset.manifest, document.baseURI);
    let api = null, error = null;
    try {
      const { manifest, parts } = await fetchModels(manifestUrl);
      api = live(root, manifest, parts);
      status.textContent = "The models run in your browser; nothing is sent anywhere.";
      root.dataset.mode = "live";
    } catch (err) {
      error = String(err.message || err);
      status.textContent = `The models could not be loaded (${error}); showing precomputed test images instead.`;
      const source = document.getElementById(root.dataset.source);
      if (source) precomputed(root, JSON.parse(source.textContent));
      root.dataset.mode = "precomputed";
    }
    root.dataset.ready = "true";
    return { ...(api || {}), error };
  }

  function start() {
    const roots = [...document.querySelectorAll(".wbbook-explorer")];
    const ready = Promise.all(roots.map(explorer)).then((apis) => {
      Object.assign(window.wbinterpExplorer, apis[0] || {});
      return apis[0] || null;
    });
    window.wbinterpExplorer = { ready, toMnist: (gray, w, h) => { const f = toMnist(gray, w, h); return f && Array.from(f); } };
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
