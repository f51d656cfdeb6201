// Incoming webhooks: create one, copy its URLs, wait for a test sample, pick a sample field for
// each of the action's fields, save the mapping and see its warnings.
import { all, api, enc } from './api.js';
import { copyButton, field, h, notify, onSubmit, table, when } from './ui.js';

// The fields each action takes, the API's own list (domain::hook::Action::targets).
const TARGETS = {
  create_transaction: ['amount', 'customer_key', 'transaction_key', 'product_id', 'product_type', 'currency', 'customer_email', 'customer_name', 'partner_key'],
  create_customer: ['email', 'name', 'customer_key', 'partner_key', 'partner_id', 'partner_email', 'referring_customer_key', 'referring_customer_email', 'referring_customer_id'],
  create_partner: ['email', 'name', 'partner_id', 'partner_key', 'referring_partner_key'],
  refund_transaction: ['transaction_key', 'amount'],
};
const POLL_MS = 2000;

export default async function hooks(params) {
  const list = await all('/v1/incoming-webhooks');
  const detail = h('div', { id: 'hook-detail' });
  const create = onSubmit(h('form', { class: 'inline' },
    field('Name', { name: 'name', required: true, 'data-field': 'name' }),
    h('button', { type: 'submit' }, 'Create incoming webhook')), async (form) => {
    const hook = await api('POST', '/v1/incoming-webhooks', { name: form.get('name') });
    location.hash = `hooks?id=${enc(hook.id)}`;
  });
  const chosen = params.get('id');
  // Not awaited: the page shows at once and the sample is polled for beside it.
  if (chosen) open(chosen, detail).catch((e) => detail.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message)));
  return h('section', { 'aria-labelledby': 'hooks-title' },
    h('h1', { id: 'hooks-title' }, 'Incoming webhooks'), create,
    table([['Name', (k) => h('a', { href: `#hooks?id=${enc(k.id)}` }, k.name)], ['Created', (k) => when(k.created_at)],
      ['Mapped to', (k) => k.mapping?.action || 'not mapped'], ['Samples', (k) => k.samples.length, 'num']], list, 'No incoming webhooks yet.'),
    detail);
}

async function open(id, detail) {
  let hook = await api('GET', `/v1/incoming-webhooks/${enc(id)}`);
  const mapping = h('div', { id: 'mapping' });
  const waiting = h('p', { role: 'status', id: 'sample-status' });
  detail.replaceChildren(h('h2', {}, hook.name),
    h('p', {}, 'Test URL (keeps a sample, creates nothing): ', h('span', { class: 'url', id: 'test-url' }, hook.test_url), ' ', copyButton(hook.test_url, 'test URL')),
    h('p', {}, 'Production URL: ', h('span', { class: 'url', id: 'production-url' }, hook.production_url), ' ', copyButton(hook.production_url, 'production URL')),
    waiting, mapping);

  // Poll until a sample arrives, while this webhook is still on screen.
  while (!hook.samples.length) {
    waiting.textContent = 'Waiting for a test sample: send one to the test URL.';
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (!detail.isConnected) return; // the user went elsewhere
    hook = await api('GET', `/v1/incoming-webhooks/${enc(id)}`);
  }
  waiting.textContent = `Latest sample received ${when(hook.samples[0].received_at)}; ${hook.field_paths.length} fields.`;
  renderMapping(hook, mapping);
}

function renderMapping(hook, box) {
  const current = hook.mapping || { action: 'create_transaction', fields: {} };
  const options = [['', '(not mapped)'], ...hook.field_paths.map((p) => [p.path, `${p.path} = ${JSON.stringify(p.example)}`])];
  const fields = h('fieldset', {}, h('legend', {}, 'Field for each target'));
  const action = field('Action', { name: 'action', 'data-field': 'action', onchange: (e) => targets(e.target.value) },
    Object.keys(TARGETS).map((a) => [a, a.replace('_', ' ')]));
  action.querySelector('select').value = current.action;
  function targets(name) {
    fields.replaceChildren(h('legend', {}, 'Field for each target'), ...TARGETS[name].map((t) => {
      const f = field(t, { name: `field:${t}`, 'data-field': `fields.${t}` }, options);
      f.querySelector('select').value = (name === current.action && current.fields[t]) || '';
      return f;
    }));
  }
  targets(current.action);
  const warnings = h('ul', { id: 'mapping-warnings' }, (hook.warnings || []).map((w) => h('li', {}, w)));
  box.replaceChildren(h('h3', {}, 'Mapping'), onSubmit(h('form', { id: 'mapping-form' }, action, fields,
    h('button', { type: 'submit' }, 'Save mapping')), async (form) => {
    const chosen = Object.fromEntries([...form].filter(([k, v]) => k.startsWith('field:') && v).map(([k, v]) => [k.slice(6), v]));
    const saved = await api('PUT', `/v1/incoming-webhooks/${enc(hook.id)}/mapping`, { action: form.get('action'), fields: chosen });
    warnings.replaceChildren(...(saved.warnings || []).map((w) => h('li', {}, w)));
    notify(`Mapping saved${saved.warnings?.length ? ' with warnings' : ''}`);
  }), h('h4', {}, 'Warnings'), warnings);
}
