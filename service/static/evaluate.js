// Score a binarized page (or a scan binarized with the chosen method) against its ground truth with
// POST /v1/evaluate: the DIBCO metrics in a table and the error map in the compare viewer.

import { Cancelled, apiError, post } from "./api.js";
import { element } from "./dom.js";

const ROWS = [
  ["avg_score", "Avg-Score (FM + pseudo-FM + PSNR + 100 − DRD) / 4"], ["fm", "F-measure (%)"],
  ["pseudo_fm", "Pseudo F-measure (%)"], ["psnr", "PSNR (dB)"], ["drd", "DRD (lower is better)"],
  ["nrm", "NRM (lower is better)"], ["mpm", "MPM (lower is better)"], ["mcc", "MCC"],
  ["recall", "Recall (%)"], ["precision", "Precision (%)"],
];

function shown(metrics, name) {
  if (name === "psnr" && metrics.psnr_infinite) return "∞ (perfect page)";
  const value = metrics[name];
  return value === null || value === undefined ? "n/a" : Number(value).toFixed(3);
}

export class EvaluatePanel {
  /** ``form``: the evaluate form; ``plan()``: the {method, params, problems} of the page's first method;
   *  ``viewer``: where the error map shows; ``key()``: the API key. */
  constructor(form, { plan, viewer, key }) {
    Object.assign(this, { form, plan, viewer, key });
    this.q = (selector) => form.querySelector(selector);
    form.addEventListener("change", () => this.sync());
    form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.q(".cancel").addEventListener("click", () => this.abort?.());
    this.sync();
  }

  source() { return this.q("input[name=source]:checked").value; }

  /** Only the file input of the chosen source is shown and required. */
  sync() {
    for (const kind of ["prediction", "scan"]) {
      const input = this.q(`#eval-${kind}`);
      input.closest(".field").hidden = kind !== this.source();
      input.required = kind === this.source();
    }
  }

  status(text, state = "") {
    const line = this.q(".eval-status");
    line.textContent = text;
    line.dataset.state = state;
  }

  async submit() {
    if (!this.form.reportValidity()) return;
    const kind = this.source();
    const page = this.q(`#eval-${kind}`).files[0];
    const gt = this.q("#eval-gt").files[0];
    const body = new FormData();
    body.append("gt", gt, gt.name);
    body.append(kind, page, page.name);
    if (kind === "scan") {
      const { method, params, problems } = this.plan();
      if (problems.length) { this.status(`Fix the parameters first: ${problems.join("; ")}`, "error"); return; }
      body.append("method", method);
      body.append("params", JSON.stringify(params));
    }
    const progress = this.q("progress");
    const cancel = this.q(".cancel");
    cancel.hidden = false;
    const sending = post("v1/evaluate", body, {
      key: this.key(),
      onUpload: (loaded, total) => { if (total) { progress.value = 100 * loaded / total; this.status(`Uploading ${Math.round(100 * loaded / total)}%`); } },
      onUploaded: () => { progress.removeAttribute("value"); this.status(kind === "scan" ? "Binarizing and scoring…" : "Scoring…"); },
    });
    this.abort = sending.abort;
    try {
      const answer = await sending.promise;
      if (answer.status !== 200) throw await apiError(answer.status, answer.body);
      const result = JSON.parse(await answer.body.text());
      progress.value = 100;
      this.show(result, page, gt, kind);
      this.status(`Scored in ${(result.time_ms / 1000).toFixed(2)} s${result.notes.length ? ": " + result.notes.join("; ") : ""}`, "done");
    } catch (error) {
      progress.value = 0;
      this.status(error instanceof Cancelled ? "Cancelled" : error.message, error instanceof Cancelled ? "" : "error");
    } finally {
      cancel.hidden = true;
    }
  }

  show(result, page, gt, kind) {
    const table = this.q(".metrics tbody");
    table.replaceChildren(...ROWS.map(([name, label]) => {
      const row = element("tr", {}, element("th", { scope: "row", textContent: label }),
        element("td", { textContent: shown(result.metrics, name) }));
      row.dataset.metric = name;
      return row;
    }));
    const key = this.q(".legend");
    const colours = result.error_map_colours;
    const swatch = (name, text) => element("span", { className: "swatch-item" },
      element("span", { className: "swatch", style: `background: rgb(${colours[name].join(",")})` }), text);
    key.replaceChildren("Error map: ", swatch("correct_ink", "correct ink"), swatch("false_ink", "false ink (not in the GT)"),
      swatch("missed_ink", "missed ink (GT ink not found)"), " on white background.");
    this.q(".eval-results").hidden = false;
    const label = kind === "scan" ? `scan ${page.name} (${result.method})` : `prediction ${page.name}`;
    this.viewer.setSources([
      { label: `ground truth ${gt.name}`, url: URL.createObjectURL(gt) },
      { label: "error map", url: result.error_map },
      { label, url: URL.createObjectURL(page) },
    ]);
  }
}
