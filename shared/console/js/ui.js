// Small DOM helpers: elements, tables, forms with their field errors, notices, dialogs.

// h('button', {type: 'submit', onclick: f}, 'Save'): attributes, `on*` listeners, children.
export function h(tag, attrs = {}, ...children) {
  const svg = ['svg', 'rect', 'line', 'text', 'title', 'g', 'path', 'pattern', 'defs'].includes(tag);
  const node = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

let ids = 0;
// A labelled control; `field` names the API field whose errors it shows.
export function field(label, attrs = {}, options) {
  const id = attrs.id || `f${++ids}`;
  const control = options
    ? h('select', { id, ...attrs }, options.map(([value, text]) => h('option', { value }, text)))
    : h(attrs.rows ? 'textarea' : 'input', { id, ...attrs });
  return h('div', { class: 'field' }, h('label', { for: id }, label), control);
}

export function table(columns, rows, empty = 'Nothing yet.') {
  if (!rows.length) return h('p', { class: 'muted' }, empty);
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, columns.map(([title]) => h('th', { scope: 'col' }, title)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, columns.map(([, cell, cls]) => h('td', { class: cls }, cell(row))))))));
}

export const when = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 16) : '');
export const money = (decimal, currency) => `${decimal ?? '0'} ${currency ?? ''}`.trim();

export function notify(message, bad = false) {
  const line = h('p', { class: bad ? 'bad' : '' }, message);
  document.getElementById('toast').append(line);
  setTimeout(() => line.remove(), 6000);
}

// Runs a form's action; an API refusal shows next to its field (or under the form).
export function onSubmit(form, action) {
  const message = h('p', { class: 'error', role: 'alert' });
  form.append(message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    for (const bad of form.querySelectorAll('[aria-invalid]')) bad.removeAttribute('aria-invalid');
    const button = form.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    try {
      await action(new FormData(form), event.submitter);
    } catch (e) {
      const target = e.field && fieldControl(form, e.field);
      if (target) {
        target.setAttribute('aria-invalid', 'true');
        target.setAttribute('aria-describedby', message.id = `e${++ids}`);
        target.focus();
      }
      message.textContent = e.field ? `${e.field}: ${e.message}` : e.message;
    } finally {
      if (button) button.disabled = false;
    }
  });
  return form;
}

// The control showing an API field: `commission.levels[0]` matches data-field
// `commission.levels[0]`, else `commission.levels`, else `commission`.
function fieldControl(form, name) {
  for (let path = name; path; path = path.replace(/(\[\d+\]|\.[^.[]+)$/, '')) {
    const found = [...form.querySelectorAll('[data-field]')].find((c) => c.dataset.field === path);
    if (found) return found;
    if (!/(\[\d+\]|\.[^.[]+)$/.test(path)) break;
  }
  return null;
}

export function dialog(title, body, onClose) {
  const box = h('dialog', { 'aria-label': title }, h('h2', {}, title), body,
    h('button', { type: 'button', class: 'secondary', onclick: () => box.close() }, 'Close'));
  box.addEventListener('close', () => { box.remove(); onClose?.(); });
  document.body.append(box);
  box.showModal();
  return box;
}

// A button that copies a text, with a spoken confirmation.
export const copyButton = (text, what) => h('button', {
  type: 'button', class: 'secondary',
  onclick: () => navigator.clipboard.writeText(text).then(() => notify(`${what} copied`), () => notify('copy refused by the browser', true)),
}, `Copy ${what}`);

export function download(name, text, type = 'text/csv') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// A form's filled fields only.
export const compact = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== '' && v !== null));
