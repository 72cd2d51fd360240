// Compare two images of one page (scan, results, error map): a before/after slider, side by side, or the
// after image's ink in a chosen colour over the before image; zoom and pan are shared by both panes, from
// fit-to-window to 1:1 screen pixels and beyond (CSS transforms; pixels drawn sharp when magnified). The
// overlay's ink layer is painted by a worker (ink-worker.js), so the page stays responsive on large pages.

import { element } from "./dom.js";

const MAX_SCALE = 32;
const STEP = 1.25;

/** Little-endian RGBA word of an opaque "#rrggbb" colour. */
function rgbaWord(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return (255 << 24 | b << 16 | g << 8 | r) >>> 0;
}

export class Viewer {
  /** Build the viewer's toolbar and panes inside ``root``; ``prefix`` keeps element ids unique. */
  constructor(root, prefix) {
    this.scale = 1; this.tx = 0; this.ty = 0; this.fitted = true; this.width = 1; this.height = 1;
    this.sources = [];
    this.inkJob = 0;
    this.worker = new Worker(new URL("./ink-worker.js", import.meta.url));
    this.worker.addEventListener("message", ({ data: { id, bitmap } }) => {
      if (id !== this.inkJob) { bitmap.close(); return; }
      this.canvas.getContext("bitmaprenderer").transferFromImageBitmap(bitmap);
      this.canvas.dataset.painted = String(id);
    });
    const id = (name) => `${prefix}-${name}`;
    this.before = element("select", { id: id("before") });
    this.after = element("select", { id: id("after") });
    const mode = (value, text, checked) => element("label", { className: "inline" },
      element("input", { type: "radio", name: id("mode"), value, checked }), text);
    this.modes = element("fieldset", { className: "modes" }, element("legend", {}, "View"),
      mode("slider", "Slider", true), mode("side", "Side by side", false), mode("overlay", "Ink overlay", false));
    this.colour = element("input", { type: "color", id: id("colour"), value: "#d81b60" });
    const button = (text, label, action) => {
      const b = element("button", { type: "button", textContent: text });
      b.setAttribute("aria-label", label);
      b.addEventListener("click", action);
      return b;
    };
    this.zoomOut = button("−", "Zoom out", () => this.zoomBy(1 / STEP));
    this.zoomIn = button("+", "Zoom in", () => this.zoomBy(STEP));
    this.fitButton = button("Fit", "Fit the page in the window", () => this.fit());
    this.oneButton = button("1:1", "Zoom to 1:1 pixels", () => this.zoomTo(1 / devicePixelRatio));
    this.readout = element("output", { id: id("zoom"), className: "zoom" });
    this.readout.setAttribute("aria-live", "polite");
    this.split = element("input", { type: "range", id: id("split"), min: 0, max: 100, value: 50 });
    const label = (input, text) => element("label", { htmlFor: input.id }, text);
    const toolbar = element("div", { className: "toolbar" },
      element("span", { className: "pair" }, label(this.before, "Before"), this.before),
      element("span", { className: "pair" }, label(this.after, "After"), this.after),
      this.modes,
      element("span", { className: "pair" }, label(this.colour, "Ink colour"), this.colour),
      element("span", { className: "zoom-buttons", role: "group" }, this.zoomOut, this.fitButton, this.oneButton, this.zoomIn, this.readout));
    toolbar.lastChild.setAttribute("aria-label", "Zoom");
    this.images = [element("img", { alt: "" }), element("img", { alt: "" })];
    this.canvas = element("canvas", { className: "ink" });
    this.tags = [element("span", { className: "tag" }), element("span", { className: "tag" })];
    this.stages = [element("div", { className: "stage" }, this.images[0]), element("div", { className: "stage" }, this.images[1], this.canvas)];
    this.panes = [0, 1].map((i) => element("div", { className: `pane pane-${i ? "b" : "a"}` }, this.stages[i], this.tags[i]));
    this.viewport = element("div", { className: "viewport", tabIndex: 0, id: id("viewport") }, ...this.panes);
    this.viewport.setAttribute("role", "group");
    this.viewport.setAttribute("aria-label", "Image comparison. Drag or arrow keys to pan, mouse wheel or + and - to zoom, 0 to fit, 1 for 1:1 pixels.");
    this.viewport.dataset.mode = "slider";
    const splitRow = element("div", { className: "split-row" }, label(this.split, "Before/after split"), this.split);
    root.replaceChildren(toolbar, this.viewport, splitRow);
    this.splitRow = splitRow;
    this.listen();
    this.setSplit();
  }

  listen() {
    this.modes.addEventListener("change", () => this.setMode(this.modes.querySelector("input:checked").value));
    this.colour.addEventListener("change", () => this.viewport.dataset.mode === "overlay" && this.paintInk());
    this.split.addEventListener("input", () => this.setSplit());
    this.before.addEventListener("change", () => this.show(0, this.before.value));
    this.after.addEventListener("change", () => this.show(1, this.after.value));
    this.viewport.addEventListener("wheel", (e) => {
      e.preventDefault();
      const pane = this.panes.find((p) => p.contains(e.target)) || this.panes[0];
      const box = pane.getBoundingClientRect();
      this.zoomBy(e.deltaY < 0 ? STEP : 1 / STEP, e.clientX - box.left, e.clientY - box.top);
    }, { passive: false });
    let drag = null;
    this.viewport.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY };
      this.viewport.setPointerCapture(e.pointerId);
    });
    this.viewport.addEventListener("pointermove", (e) => {
      if (!drag) return;
      this.panBy(e.clientX - drag.x, e.clientY - drag.y);
      drag = { x: e.clientX, y: e.clientY };
    });
    this.viewport.addEventListener("pointerup", () => { drag = null; });
    this.viewport.addEventListener("keydown", (e) => {
      const keys = {
        "+": () => this.zoomBy(STEP), "=": () => this.zoomBy(STEP), "-": () => this.zoomBy(1 / STEP),
        "0": () => this.fit(), "1": () => this.zoomTo(1 / devicePixelRatio),
        ArrowLeft: () => this.panBy(60, 0), ArrowRight: () => this.panBy(-60, 0),
        ArrowUp: () => this.panBy(0, 60), ArrowDown: () => this.panBy(0, -60),
      };
      if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
    });
    new ResizeObserver(() => this.fitted ? this.fit() : this.apply()).observe(this.viewport);
  }

  /** Show ``sources`` ([{label, url}], the first is the default "before", the second the "after"). */
  async setSources(sources, afterIndex = 1) {
    this.sources = sources;
    for (const select of [this.before, this.after]) {
      select.replaceChildren(...sources.map((s, i) => new Option(s.label, String(i))));
    }
    this.before.value = "0";
    this.after.value = String(Math.min(afterIndex, sources.length - 1));
    await Promise.all([this.show(0, this.before.value), this.show(1, this.after.value)]);
    this.fit();
  }

  async show(which, index) {
    const source = this.sources[Number(index)];
    const image = this.images[which];
    image.alt = source.label;
    this.tags[which].textContent = (which ? "After: " : "Before: ") + source.label;
    image.src = source.url;
    try {
      await image.decode();
      this.tags[which].classList.remove("warn");
    } catch {
      this.tags[which].textContent += " (this browser cannot display the file; TIFF scans show as results only)";
      this.tags[which].classList.add("warn");
    }
    this.size();
    if (which === 1 && this.viewport.dataset.mode === "overlay") this.paintInk();
  }

  /** Both images drawn at the after image's pixel size (results and scans of one page share it). */
  size() {
    const reference = this.images[1].naturalWidth ? this.images[1] : this.images[0];
    this.width = reference.naturalWidth || 1;
    this.height = reference.naturalHeight || 1;
    for (const node of [...this.images, this.canvas]) {
      node.style.width = `${this.width}px`;
      node.style.height = `${this.height}px`;
    }
  }

  setMode(mode) {
    this.viewport.dataset.mode = mode;
    this.splitRow.hidden = mode !== "slider";
    if (mode === "overlay") this.paintInk();
    this.fitted ? this.fit() : this.apply();
  }

  /** Ask the worker for the after image's ink in the chosen colour; only the latest request is drawn. */
  async paintInk() {
    const image = this.images[1];
    if (!image.naturalWidth) return;
    const id = ++this.inkJob;
    const blob = await (await fetch(image.src)).blob();
    Object.assign(this.canvas, { width: image.naturalWidth, height: image.naturalHeight });
    this.worker.postMessage({ id, blob, rgba: rgbaWord(this.colour.value) });
  }

  setSplit() {
    this.panes[1].style.setProperty("--split", `${this.split.value}%`);
  }

  paneSize() {
    const box = this.panes[0].getBoundingClientRect();
    return { w: box.width || 1, h: box.height || 1 };
  }

  fit() {
    const { w, h } = this.paneSize();
    this.scale = Math.min(w / this.width, h / this.height);
    this.tx = (w - this.width * this.scale) / 2;
    this.ty = (h - this.height * this.scale) / 2;
    this.fitted = true;
    this.apply();
  }

  /** Zoom to ``scale`` (CSS pixels per image pixel) keeping the point (cx, cy) of the pane in place. */
  zoomTo(scale, cx, cy) {
    const { w, h } = this.paneSize();
    const fitScale = Math.min(w / this.width, h / this.height);
    const next = Math.max(Math.min(fitScale, 1) / 4, Math.min(MAX_SCALE, scale));
    cx = cx ?? w / 2; cy = cy ?? h / 2;
    this.tx = cx - (cx - this.tx) * (next / this.scale);
    this.ty = cy - (cy - this.ty) * (next / this.scale);
    this.scale = next;
    this.fitted = false;
    this.apply();
  }

  zoomBy(factor, cx, cy) { this.zoomTo(this.scale * factor, cx, cy); }

  panBy(dx, dy) { this.tx += dx; this.ty += dy; this.fitted = false; this.apply(); }

  /** Keep the page in view: a page larger than the pane cannot leave a gap at its edges, a smaller one
   *  cannot leave the pane. */
  clamp() {
    const { w, h } = this.paneSize();
    const clampAxis = (t, pane, size) => Math.min(Math.max(t, Math.min(0, pane - size)), Math.max(0, pane - size));
    this.tx = clampAxis(this.tx, w, this.width * this.scale);
    this.ty = clampAxis(this.ty, h, this.height * this.scale);
  }

  apply() {
    this.clamp();
    const transform = `translate(${this.tx}px, ${this.ty}px) scale(${this.scale})`;
    for (const stage of this.stages) stage.style.transform = transform;
    const screenPixels = this.scale * devicePixelRatio;
    this.viewport.classList.toggle("magnified", screenPixels >= 1);
    this.readout.value = `${Math.round(screenPixels * 100)}%${this.fitted ? " (fit)" : ""}`;
    this.viewport.dataset.scale = String(screenPixels);
  }
}
