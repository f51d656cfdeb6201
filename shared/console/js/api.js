// The only way the console talks to the server: the public /v1 API with the admin key kept in
// this tab's session storage (never a cookie, never the URL).
const STORE = 'partnerhook.admin_key';

export const adminKey = {
  get: () => sessionStorage.getItem(STORE),
  set: (key) => sessionStorage.setItem(STORE, key),
  clear: () => sessionStorage.removeItem(STORE),
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `the server answered ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.field = body?.error?.field;
  }
}

// One call. JSON in and out unless `type` names another body type or `text` asks for text.
export async function api(method, path, body, { type, text } = {}) {
  const headers = { Authorization: `Bearer ${adminKey.get()}` };
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = type || 'application/json';
    payload = type ? body : JSON.stringify(body);
  }
  // A fresh key per user action: the server replays it if the network makes us send twice.
  if (method === 'POST') headers['Idempotency-Key'] = crypto.randomUUID();
  let answer;
  try {
    answer = await fetch(path, { method, headers, body: payload, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, { error: { message: `the server cannot be reached (${e.message})` } });
  }
  const raw = await answer.text();
  let json = null;
  try { json = raw ? JSON.parse(raw) : null; } catch { json = null; }
  if (!answer.ok) throw new ApiError(answer.status, json);
  return text ? raw : json;
}

// Every item of a listing, following its cursors, up to `max`.
export async function all(path, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const more = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await api('GET', `${path}${sep}limit=200${more}`);
    items.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

export const enc = encodeURIComponent;
