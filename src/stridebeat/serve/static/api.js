// The page's calls to its server, and one-line errors placed under the field they are about.

export const $ = (id) => document.getElementById(id);

export class ApiError extends Error {
  // message: the line shown under the field it is about; whole: the line that names the setting, for elsewhere.
  constructor(message, field, status, whole) {
    super(message);
    this.field = field;
    this.status = status;
    this.whole = whole || message;
  }
}

export async function api(method, url, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = { error: `the server answered ${res.status}` };
  }
  if (!res.ok) {
    throw new ApiError(data.error || `the server answered ${res.status}`, data.field, res.status, data.message);
  }
  return data;
}

export function clearErrors() {
  for (const el of document.querySelectorAll(".error")) el.textContent = "";
}

export function showError(err, fallback = "err-form") {
  clearErrors();
  if (err instanceof TypeError) {
    $(fallback).textContent = "cannot reach the server: check the connection";
    return;
  }
  // Under its own field the value and the reason suffice (the label names the setting); elsewhere the whole line.
  const own = err.field && $(`err-${err.field}`);
  if (own) own.textContent = err.message;
  else $(fallback).textContent = err.whole || err.message;
}
