// A method's parameter form, built from GET /v1/methods: labels, one-line help, defaults shown as the values
// they stand for, advanced parameters folded away, and the ranges checked before anything is sent.

import { element } from "./dom.js";

/** "" when the field's value is admissible for ``param``, else a one-line reason (same rules as the server). */
export function problem(param, input) {
  if (param.choices || param.type === "bool" || param.type === "str") return "";
  const raw = input.value.trim();
  if (raw === "") return `${param.label} needs a value`;
  const value = Number(raw);
  if (!Number.isFinite(value)) return `${param.label} must be a number`;
  if (param.type === "int" && !Number.isInteger(value)) return `${param.label} must be a whole number`;
  if (param.min !== null && value < param.min) return `${param.label} must be at least ${param.min}`;
  if (param.max !== null && value > param.max) return `${param.label} must be at most ${param.max}`;
  return "";
}

function valueOf(param, input) {
  if (param.type === "bool") return input.checked;
  if (param.type === "int" || param.type === "float") return Number(input.value);
  return input.value;
}

function control(param, id, helpId) {
  const shown = param.default_shown;
  let input;
  if (param.choices) {
    input = element("select");
    for (const c of param.choices) input.add(new Option(String(c), String(c), false, c === shown));
  } else if (param.type === "bool") {
    input = element("input", { type: "checkbox", checked: shown });
  } else {
    input = element("input", { type: param.type === "str" ? "text" : "number", value: String(shown) });
    if (param.type === "float") input.step = "any";
    if (param.min !== null) input.min = param.min;
    if (param.max !== null) input.max = param.max;
    input.inputMode = param.type === "int" ? "numeric" : "decimal";
  }
  Object.assign(input, { id, name: param.name });
  input.setAttribute("aria-describedby", helpId);
  return input;
}

function describeDefault(param) {
  const shown = param.type === "bool" ? (param.default_shown ? "on" : "off") : String(param.default_shown);
  return param.default_shown === param.default ? `Default ${shown}.` : `Default ${shown} (the model's).`;
}

/** The parameter fields of ``method`` in ``container``; ``prefix`` keeps element ids unique on the page. */
export class ParamForm {
  constructor(container, method, prefix) {
    this.method = method;
    this.fields = method.params.map((param) => {
      const id = `${prefix}-${param.name}`;
      const input = control(param, id, `${id}-help`);
      const message = element("span", { id: `${id}-error`, className: "field-error" });
      const help = element("small", { id: `${id}-help`, className: "help" }, `${param.help}. ${describeDefault(param)}`);
      const label = element("label", { htmlFor: id }, param.label);
      const row = element("div", { className: param.type === "bool" ? "field check" : "field" }, label, input, help, message);
      input.addEventListener("input", () => this.check(param, input, message));
      input.addEventListener("change", () => this.check(param, input, message));
      return { param, input, message, row };
    });
    const basic = this.fields.filter((f) => !f.param.advanced).map((f) => f.row);
    const advanced = this.fields.filter((f) => f.param.advanced).map((f) => f.row);
    const parts = basic.length || advanced.length ? basic : [element("p", { className: "help" }, "No parameters.")];
    if (advanced.length) {
      parts.push(element("details", { className: "advanced" }, element("summary", {}, `Advanced (${advanced.length})`), ...advanced));
    }
    container.replaceChildren(...parts);
  }

  check(param, input, message) {
    const reason = problem(param, input);
    input.setCustomValidity(reason);
    input.setAttribute("aria-invalid", reason ? "true" : "false");
    message.textContent = reason;
    return reason;
  }

  /** { params, problems }: the values that differ from the shown defaults (the server fills the rest), and
   *  every field's problem; folds holding an invalid field open, the first one gets the focus. */
  read() {
    const params = {};
    const problems = [];
    for (const { param, input, message } of this.fields) {
      const reason = this.check(param, input, message);
      if (reason) { problems.push(reason); continue; }
      const value = valueOf(param, input);
      if (String(value) !== String(param.default_shown)) params[param.name] = value;
    }
    const bad = this.fields.filter((f) => f.input.getAttribute("aria-invalid") === "true");
    for (const { input } of bad) {
      const fold = input.closest("details");
      if (fold) fold.open = true;
    }
    bad[0]?.input.focus();
    return { params, problems };
  }
}

/** "Served by the threestage model, fp32, version 6482b543d5a6" for methods served by model files (and which
 *  other precisions can or cannot run here), else "". */
export function modelLine(method) {
  const m = method.model;
  if (!m) return "";
  // the served entry is the one with the served model's precision and version (its key, "1bit", may differ
  // from the manifest's precision, "1bit-int8")
  const others = Object.entries(m.precisions ?? {})
    .filter(([, p]) => !(p.precision === m.precision && p.version === m.version))
    .map(([name, p]) => p.available ? `${name} (version ${p.version}) also available` : `${name} not installed here`);
  return [`Served by the ${m.name} model, ${m.precision}, version ${m.version}`, ...others].join("; ");
}
