// Talking to the docbin API: an upload with progress that can be cancelled, and readable error messages.

/** Headers for the optional API key (Authorization: Bearer). */
export function authHeaders(key) {
  return key ? { Authorization: "Bearer " + key } : {};
}

/** An Error for a non-2xx answer: ``message`` "415 not_an_image: scan.png: ..." from the docbin JSON error body
 *  (or the HTTP status), ``code`` the error's code ("" without a docbin body). */
export async function apiError(status, body) {
  try {
    const { error } = JSON.parse(await body.text());
    return Object.assign(new Error(`${status} ${error.code}: ${error.message}`), { code: error.code });
  } catch {
    return Object.assign(new Error(`${status}: the server answered without a docbin error body`), { code: "" });
  }
}

export class Cancelled extends Error {
  constructor() { super("cancelled"); this.name = "Cancelled"; }
}

/**
 * POST a FormData with XMLHttpRequest, so upload progress is observable.
 * Returns { promise, abort }; the promise resolves to { status, body: Blob, header(name) } for any HTTP answer,
 * rejects with Cancelled after abort() and with an Error when the server cannot be reached.
 * onUpload(loaded, total) follows the upload; onUploaded() fires once the request body is sent.
 */
export function post(url, form, { key = "", onUpload = () => {}, onUploaded = () => {} } = {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", url);
    xhr.responseType = "blob";
    for (const [name, value] of Object.entries(authHeaders(key))) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (e) => onUpload(e.loaded, e.lengthComputable ? e.total : 0));
    xhr.upload.addEventListener("load", onUploaded);
    xhr.addEventListener("load", () => resolve({
      status: xhr.status, body: xhr.response, header: (name) => xhr.getResponseHeader(name),
    }));
    xhr.addEventListener("error", () => reject(new Error("network error: the server could not be reached")));
    xhr.addEventListener("abort", () => reject(new Cancelled()));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/** Seconds to wait before retrying a 503 (Retry-After), or null when the answer is not a retryable 503. */
export function retryAfter(answer) {
  if (answer.status !== 503) return null;
  const seconds = Number(answer.header("Retry-After"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 30) : 2;
}
