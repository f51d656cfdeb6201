// Settings' access part: the program's admin keys (full or read-only; a new key's secret is
// shown once) and the audit log of changes made through the API.
import { all, api, enc } from './api.js';
import { field, h, notify, onSubmit, table, when } from './ui.js';

export async function apiKeys() {
  const keys = await all('/v1/program/api-keys');
  const shown = h('p', { role: 'status' });
  const form = onSubmit(h('form', { id: 'api-key-form' },
    h('div', { class: 'row' },
      field('Key name', { name: 'name', required: true, 'data-field': 'name' }),
      field('Access', { name: 'role', 'data-field': 'role' }, [['read_only', 'read-only (GET only)'], ['admin', 'full admin']])),
    h('button', { type: 'submit' }, 'Create key')), async (data) => {
    const created = await api('POST', '/v1/program/api-keys', { name: data.get('name'), role: data.get('role') });
    shown.replaceChildren('New key (shown once; keep it now): ', h('code', { id: 'new-api-key' }, created.api_key));
    list.replaceChildren(keyTable(await all('/v1/program/api-keys')));
    await refreshAudit();
  });
  const list = h('div', { id: 'api-keys' }, keyTable(keys));
  return h('div', {}, h('h2', {}, 'API keys'),
    h('p', { class: 'muted' }, 'Read-only keys may only read. Revoking takes effect at once; the last full admin key cannot be revoked.'),
    list, form, shown);
}

function keyTable(keys) {
  const revoke = (key) => h('button', {
    type: 'button',
    'aria-label': `Revoke the key ${key.name}`,
    onclick: async (event) => {
      if (!confirm(`Revoke the key "${key.name}"? Requests made with it fail from now on.`)) return;
      try {
        await api('DELETE', `/v1/program/api-keys/${enc(key.id)}`);
        notify(`Key ${key.name} revoked`);
        event.target.closest('tr').remove();
        await refreshAudit();
      } catch (e) { notify(e.message, true); }
    },
  }, 'Revoke');
  return table([
    ['Name', (k) => k.name], ['Access', (k) => (k.role === 'admin' ? 'full admin' : 'read-only')],
    ['Created', (k) => when(k.created_at)], ['Last used', (k) => when(k.last_used_at) || 'not yet'],
    ['', revoke],
  ], keys);
}

export async function auditLog() {
  return h('div', {}, h('h2', {}, 'Audit log (latest 50 changes)'), h('div', { id: 'audit-log' }, await auditTable()));
}

// After a change made on this page, the log shows it too.
async function refreshAudit() {
  document.getElementById('audit-log')?.replaceChildren(await auditTable());
}

async function auditTable() {
  const page = await api('GET', '/v1/audit?limit=50');
  return table([
    ['When', (e) => when(e.at)], ['Key', (e) => e.key.name], ['Change', (e) => `${e.method} ${e.path}`],
    ['Status', (e) => e.status, 'num'],
    ['Digest before → after', (e) => h('code', {}, `${(e.before_digest || '—').slice(0, 12)} → ${(e.after_digest || '—').slice(0, 12)}`)],
  ], page.data, 'No changes yet.');
}
