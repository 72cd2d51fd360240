// Many scans, one or two methods each: a card per file with a row per method (upload progress, processing
// state, the result or the server's error in place), run two at a time, cancellable, downloadable.

import { Cancelled, apiError, post, retryAfter } from "./api.js";
import { element } from "./dom.js";

const CONCURRENCY = 2;

function stem(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

function size(bytes) {
  return bytes < 1e6 ? `${Math.max(1, Math.round(bytes / 1e3))} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

/** Save ``blob`` as ``name`` through a temporary download link. */
export function save(blob, name) {
  const link = element("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

/** One method run on one file: its row in the card and its outcome. */
class Run {
  constructor(item, plan, onOpen) {
    this.item = item; this.plan = plan;
    this.progress = element("progress", { max: 100, value: 0 });
    this.progress.setAttribute("aria-label", `${plan.label} on ${item.file.name}`);
    this.status = element("span", { className: "state" });
    this.status.setAttribute("role", "status");
    this.thumb = element("img", { alt: `${plan.label} result of ${item.file.name}`, decoding: "async" });
    this.open = element("button", { type: "button", className: "thumb-button", hidden: true }, this.thumb);
    this.open.setAttribute("aria-label", `Compare the ${plan.label} result of ${item.file.name} with the scan`);
    this.open.addEventListener("click", () => onOpen(item, this));
    this.download = element("button", { type: "button", hidden: true, textContent: "Download" });
    this.download.setAttribute("aria-label", `Download the ${plan.label} result of ${item.file.name}`);
    this.row = element("li", { className: "run" }, element("span", { className: "method", textContent: plan.label }),
      this.progress, this.status, this.open, this.download);
    this.set("queued", "Queued", 0);
  }

  set(state, text, percent) {
    this.state = state;
    this.row.dataset.state = state;
    this.status.textContent = text;
    if (percent === null) this.progress.removeAttribute("value"); else this.progress.value = percent;
  }

  /** The download name; a multi-page result (no PNG) is always a TIFF. */
  fileName(format) {
    return `${stem(this.item.file.name)}.${this.plan.label}.${format === "tiff" || !this.blob ? "tif" : "png"}`;
  }
}

export class Gallery {
  /** ``list``: the <ul> of cards; ``onOpen(item, run)``: show a result in the viewer; ``onChange()``: counts moved. */
  constructor(list, { key, format, onOpen, onChange }) {
    Object.assign(this, { list, key, format, onOpen, onChange });
    this.items = [];
    this.active = new Set();
    this.cancelled = false;
    this.nextId = 0;
  }

  add(files) {
    for (const file of files) {
      const item = { id: this.nextId++, file, url: URL.createObjectURL(file), runs: [] };
      const remove = element("button", { type: "button", className: "remove", textContent: "Remove" });
      remove.setAttribute("aria-label", `Remove ${file.name}`);
      remove.addEventListener("click", () => this.remove(item));
      const scan = element("img", { src: item.url, alt: `scan ${file.name}`, decoding: "async", loading: "lazy" });
      scan.addEventListener("error", () => scan.replaceWith(element("span", { className: "no-preview", textContent: "no preview (TIFF)" })));
      item.runList = element("ul", { className: "runs" });
      item.card = element("li", { className: "card" },
        element("div", { className: "card-head" }, scan,
          element("span", { className: "name", textContent: `${file.name} (${size(file.size)})` }), remove),
        item.runList);
      this.items.push(item);
      this.list.append(item.card);
    }
    this.onChange();
  }

  remove(item) {
    for (const run of item.runs) run.abort?.();
    item.card.remove();
    this.items = this.items.filter((i) => i !== item);
    this.onChange();
  }

  /** Run every ``plan`` ({label, method, params}) on every file, CONCURRENCY requests at a time. */
  async run(plans) {
    this.cancelled = false;
    const queue = [];
    for (const item of this.items) {
      item.runs = plans.map((plan) => new Run(item, plan, this.onOpen));
      item.runList.replaceChildren(...item.runs.map((r) => r.row));
      for (const run of item.runs) {
        run.download.addEventListener("click", () => this.downloadOne(run));
        queue.push(run);
      }
    }
    this.onChange();
    const worker = async () => {
      while (queue.length && !this.cancelled) {
        const run = queue.shift();
        if (this.items.includes(run.item)) await this.execute(run);  // its file may have been removed meanwhile
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    for (const run of queue) run.set("cancelled", "Cancelled", 0);
    this.onChange();
  }

  cancel() {
    this.cancelled = true;
    for (const run of this.active) run.abort();
  }

  async execute(run) {
    this.active.add(run);
    this.onChange();
    try {
      const answer = await this.request(run, "png").catch(async (error) => {
        if (error.code !== "multipage_png") throw error;
        run.tiff = (await this.request(run, "tiff")).body;  // a multi-page scan: its pages in one G4 TIFF
        return null;
      });
      run.download.hidden = false;
      if (answer) {
        run.blob = answer.body;
        run.url = URL.createObjectURL(answer.body);
        run.thumb.src = run.url;
        run.open.hidden = false;
        run.set("done", `Done in ${(Number(answer.header("X-Docbin-Time-Ms")) / 1000).toFixed(2)} s`, 100);
      } else {
        run.set("done", "Done: multi-page TIFF (no preview; downloads as TIFF)", 100);
      }
    } catch (error) {
      if (error instanceof Cancelled) run.set("cancelled", "Cancelled", 0);
      else run.set("error", error.message, 0);
    } finally {
      this.active.delete(run);
      this.onChange();
    }
  }

  /** POST the run's file and parameters; 503 answers are retried after Retry-After. Resolves to the 200
   *  answer; throws Cancelled or an Error carrying the server's message. */
  async request(run, format) {
    for (;;) {
      const form = new FormData();
      form.append("file", run.item.file, run.item.file.name);
      form.append("method", run.plan.method);
      form.append("params", JSON.stringify(run.plan.params));
      form.append("format", format);
      let timer = null;
      const started = performance.now();
      run.set("uploading", "Uploading 0%", 0);
      const sending = post("v1/binarize", form, {
        key: this.key(),
        onUpload: (loaded, total) => total && run.set("uploading", `Uploading ${Math.round(100 * loaded / total)}%`, 100 * loaded / total),
        onUploaded: () => {
          const tick = () => run.set("processing", `Processing… ${((performance.now() - started) / 1000).toFixed(0)} s`, null);
          tick();
          timer = setInterval(tick, 1000);
        },
      });
      run.abort = sending.abort;
      let answer;
      try {
        answer = await sending.promise;
      } finally {
        clearInterval(timer);
      }
      const wait = retryAfter(answer);
      if (wait === null) {
        if (answer.status !== 200) throw await apiError(answer.status, answer.body);
        return answer;
      }
      run.set("waiting", `Server busy: retrying in ${wait} s`, null);
      await sleep(wait * 1000);
      if (this.cancelled) throw new Cancelled();
    }
  }

  /** The run's result in ``format``: the PNG it already has, or a G4 TIFF asked from the server (which
   *  binarizes the scan again: the browser cannot re-encode 1-bit TIFF). */
  async resultBlob(run, format) {
    if (format === "png" && run.blob) return run.blob;
    if (!run.tiff) {
      const text = run.status.textContent;
      try {
        run.tiff = (await this.request(run, "tiff")).body;
      } finally {
        run.set("done", text, 100);
      }
    }
    return run.tiff;
  }

  async downloadOne(run) {
    const format = this.format();
    try {
      save(await this.resultBlob(run, format), run.fileName(format));
    } catch (error) {
      run.status.textContent += ` · download failed: ${error.message}`;
    }
  }

  done() { return this.items.flatMap((item) => item.runs.filter((run) => run.state === "done")); }

  counts() {
    const runs = this.items.flatMap((item) => item.runs);
    const count = (state) => runs.filter((run) => run.state === state).length;
    return { files: this.items.length, runs: runs.length, done: count("done"), failed: count("error"),
             busy: this.active.size, cancelled: count("cancelled") };
  }

  /** [{name, blob}] of every finished result in ``format``, names made unique. */
  async entries(format, onStep) {
    const seen = new Map();
    const entries = [];
    for (const [i, run] of this.done().entries()) {
      onStep(i);
      let name = run.fileName(format);
      const n = (seen.get(name) ?? 0) + 1;
      seen.set(name, n);
      if (n > 1) name = name.replace(/(\.[a-z]+)$/, ` (${n})$1`);
      entries.push({ name, blob: await this.resultBlob(run, format) });
    }
    return entries;
  }
}
