// The upload page: methods and parameters from /v1/methods, many files in a gallery, the compare viewer,
// ZIP downloads and the evaluation form.

import { apiError, authHeaders } from "./api.js";
import { EvaluatePanel } from "./evaluate.js";
import { Gallery, save } from "./gallery.js";
import { ParamForm, modelLine } from "./params.js";
import { Viewer } from "./viewer.js";
import { zipStore } from "./zip.js";

const $ = (id) => document.getElementById(id);
const key = () => $("key").value.trim();
const format = () => document.querySelector("input[name=format]:checked").value;
let methods = [];
const forms = {};

function say(text, state = "") {
  $("status").textContent = text;
  $("status").dataset.state = state;
}

function showParams(slot) {
  const name = $(`method-${slot}`).value;
  const method = methods.find((m) => m.name === name);
  $(`params-${slot}`).hidden = !method;
  $(`model-${slot}`).textContent = method ? modelLine(method) : "";
  forms[slot] = method ? new ParamForm($(`params-${slot}`).querySelector(".fields"), method, `p${slot}`) : null;
  if (method) $(`params-${slot}`).querySelector("legend").textContent = `Parameters of ${method.name}`;
}

async function loadMethods() {
  const response = await fetch("v1/methods", { headers: authHeaders(key()) });
  if (!response.ok) {
    say((await apiError(response.status, response)).message, "error");
    if (response.status === 401) { document.querySelector("details.settings").open = true; $("key").focus(); }
    return;
  }
  methods = await response.json();
  const option = (m) => Object.assign(new Option(m.available === false ? `${m.name}: unavailable here (${m.unavailable})`
    : `${m.name}: ${m.description}`, m.name), { disabled: m.available === false });
  $("method-a").replaceChildren(...methods.map(option));
  $("method-b").replaceChildren(new Option("(none)", ""), ...methods.map(option));
  const runnable = methods.filter((m) => m.available !== false);
  $("method-a").value = runnable.some((m) => m.name === "sauvola") ? "sauvola" : runnable[0]?.name ?? "";
  showParams("a"); showParams("b");
  say("");
}

/** The runs to make: [{label, method, params}], or null (and the reasons shown) when a parameter is invalid. */
function plans() {
  const chosen = ["a", "b"].filter((slot) => forms[slot]);
  const read = chosen.map((slot) => ({ slot, ...forms[slot].read() }));
  const problems = read.flatMap((r) => r.problems);
  if (problems.length) { say(`Not sent: ${problems.join("; ")}.`, "error"); return null; }
  const twice = chosen.length === 2 && forms.a.method.name === forms.b.method.name;
  return read.map(({ slot, params }) => ({
    label: twice ? `${forms[slot].method.name}-${slot === "a" ? 1 : 2}` : forms[slot].method.name,
    method: forms[slot].method.name, params,
  }));
}

const viewer = new Viewer($("viewer"), "cmp");

function open(item, run) {
  const runs = item.runs.filter((r) => r.state === "done" && r.url);  // multi-page results have no preview
  viewer.setSources([{ label: `scan ${item.file.name}`, url: item.url },
    ...runs.map((r) => ({ label: `${r.plan.label} result`, url: r.url }))], 1 + runs.indexOf(run));
  $("compare").hidden = false;
  $("compare").scrollIntoView({ block: "start" });
  viewer.viewport.focus({ preventScroll: true });
}

function refresh() {
  const c = gallery.counts();
  $("run").disabled = c.busy > 0 || c.files === 0;
  $("cancel").hidden = c.busy === 0;
  $("zip").disabled = c.done === 0 || c.busy > 0;
  $("overall").max = Math.max(c.runs, 1);
  $("overall").value = c.done + c.failed + c.cancelled;
  $("files-count").textContent = c.files ? `${c.files} file${c.files > 1 ? "s" : ""}` : "No files yet";
  if (c.runs) say(`${c.done} of ${c.runs} done${c.failed ? `, ${c.failed} failed` : ""}${c.cancelled ? `, ${c.cancelled} cancelled` : ""}${c.busy ? `, ${c.busy} running` : ""}.`,
    c.failed ? "error" : "");
}

const gallery = new Gallery($("gallery"), { key, format, onOpen: open, onChange: () => refresh() });

$("files").addEventListener("change", () => { gallery.add($("files").files); $("files").value = ""; });
for (const type of ["dragenter", "dragover"]) {
  $("drop").addEventListener(type, (e) => { e.preventDefault(); $("drop").classList.add("over"); });
}
$("drop").addEventListener("dragleave", () => $("drop").classList.remove("over"));
$("drop").addEventListener("drop", (e) => {
  e.preventDefault();
  $("drop").classList.remove("over");
  gallery.add(e.dataTransfer.files);
});
$("method-a").addEventListener("change", () => showParams("a"));
$("method-b").addEventListener("change", () => showParams("b"));
$("key").addEventListener("change", loadMethods);
$("clear").addEventListener("click", () => [...gallery.items].forEach((item) => gallery.remove(item)));
$("run-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!gallery.items.length) { say("Add one or more scans first.", "error"); return; }
  const runs = plans();
  if (runs) gallery.run(runs);
});
$("cancel").addEventListener("click", () => gallery.cancel());
$("zip").addEventListener("click", async () => {
  $("zip").disabled = true;
  let outcome;
  try {
    const chosen = format();
    const entries = await gallery.entries(chosen, (i) => say(`Preparing the ZIP: ${i + 1} of ${gallery.done().length}…`));
    save(await zipStore(entries), `docbin-results-${chosen}.zip`);
    outcome = [`ZIP ready: ${entries.length} file${entries.length > 1 ? "s" : ""}.`, "done"];
  } catch (error) {
    outcome = [`ZIP failed: ${error.message}`, "error"];
  }
  refresh();
  say(...outcome);
});

new EvaluatePanel($("eval-form"), {
  plan: () => ({ method: forms.a.method.name, ...forms.a.read() }),
  viewer: new Viewer($("eval-viewer"), "ev"),
  key,
});

refresh();
loadMethods();
