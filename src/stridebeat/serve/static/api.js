// The page's calls to its server, and one-line errors placed under the field they are about.

export const LABELS = {
  preset: "Preset", time: "Target time", distance: "Distance", start: "Start",
  steps_per_100m: "Steps per 100 m", stride: "Stride profile", name: "Preset name",
};

export const $ = (id) => document.getElementById(id);

export class ApiError extends Error {
  constructor(message, field, status) {
    super(message);
    this.field = field;
    this.status = status;
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
  if (!res.ok) throw new ApiError(data.error || `the server answered ${res.status}`, data.field, res.status);
  return data;
}

// The CLI's message in the page's words: an option named in it becomes the label of its field.
export function inWords(message) {
  return message.replace(/--([a-z0-9-]+)/g, (flag, name) => {
    const key = name.replaceAll("-", "_");
    return LABELS[key] ? `“${LABELS[key]}”` : flag;
  });
}

export function clearErrors() {
  for (const el of document.querySelectorAll(".error")) el.textContent = "";
}

export function showError(err, fallback = "err-form") {
  clearErrors();
  const message = err instanceof TypeError ? "cannot reach the server: check the connection" : inWords(err.message);
  const target = (err.field && $(`err-${err.field}`)) || $(fallback);
  target.textContent = message;
}
