// Settings: the commission plan (the API's refusals shown at their field), provider credentials
// (write-only: set or not set), the custom webhook's secret, postback signing, and a CSV import
// with a dry run first; then the admin keys and the audit log.
import { apiKeys, auditLog } from './access.js';
import { api } from './api.js';
import { field, h, notify, onSubmit, table } from './ui.js';

const CREDENTIALS = {
  stripe: [['signing_secret', 'Signing secret (whsec_...)']],
  chargebee: [['username', 'Basic auth username'], ['password', 'Basic auth password']],
  recurly: [['signing_key', 'Signing key']],
  chargify: [['site_shared_key', 'Site shared key']],
};

export default async function settings() {
  const program = await api('GET', '/v1/program');
  return h('section', { 'aria-labelledby': 'settings-title' },
    h('h1', { id: 'settings-title' }, `Settings: ${program.name} (${program.slug})`),
    planForm(program), credentials(program), secret(program), postbacks(), csvImport(),
    await apiKeys(), await auditLog());
}

function planForm(program) {
  const c = program.commission;
  const json = (v) => (v && v.length ? JSON.stringify(v, null, 2) : '');
  const form = onSubmit(h('form', { id: 'plan-form' },
    h('div', { class: 'row' },
      field('Name', { name: 'name', value: program.name, 'data-field': 'name' }),
      field('Currency (ISO 4217)', { name: 'currency', value: program.currency, 'data-field': 'currency' }),
      field('Holding days', { name: 'holding_days', type: 'number', min: 0, max: 365, value: c.holding_days, 'data-field': 'commission.holding_days' }),
      field('Percent of', { name: 'base', 'data-field': 'commission.base' }, [['net', 'net amount'], ['gross', 'gross amount']]),
      field('Percent per level, comma-separated (first: the partner)', { name: 'levels', value: c.levels.join(', '), 'data-field': 'commission.levels' })),
    field('Rules (JSON list, tried in order; empty: none)', { name: 'rules', rows: 4, 'data-field': 'commission.rules' }),
    field('Monthly tiers (JSON list of {"min_sales", "levels"}; empty: none)', { name: 'tiers', rows: 3, 'data-field': 'commission.tiers' }),
    h('button', { type: 'submit' }, 'Save plan')), async (form) => {
    const list = (name) => {
      const text = form.get(name).trim();
      if (!text) return [];
      try { return JSON.parse(text); } catch (e) { throw Object.assign(new Error(`not JSON: ${e.message}`), { field: `commission.${name}` }); }
    };
    const commission = {
      holding_days: Number(form.get('holding_days')),
      base: form.get('base'),
      levels: form.get('levels').split(',').map((s) => s.trim()).filter(Boolean),
      rules: list('rules'),
      tiers: list('tiers'),
    };
    await api('PATCH', '/v1/program', { name: form.get('name'), currency: form.get('currency'), commission });
    notify('Plan saved');
  });
  form.querySelector('[name=base]').value = c.base;
  form.querySelector('[name=rules]').value = json(c.rules);
  form.querySelector('[name=tiers]').value = json(c.tiers);
  return h('div', {}, h('h2', {}, 'Commission plan'), form);
}

function credentials(program) {
  const rows = Object.entries(program.providers).map(([name, p]) => {
    const count = Object.entries(p).filter(([k]) => k.endsWith('_configured')).reduce((n, [, v]) => n + v, 0);
    return { name, path: p.path, set: count > 0 };
  });
  const inputs = h('div', { class: 'row' });
  const pick = (provider) => inputs.replaceChildren(...CREDENTIALS[provider].map(([key, label]) =>
    field(label, { name: key, type: 'password', autocomplete: 'off', required: true, 'data-field': `providers.${provider}.${key}` })));
  const form = onSubmit(h('form', { id: 'credentials-form' },
    field('Provider', { name: 'provider', onchange: (e) => pick(e.target.value) }, Object.keys(CREDENTIALS).map((p) => [p, p])),
    inputs, h('button', { type: 'submit' }, 'Set credentials')), async (data) => {
    const provider = data.get('provider');
    const values = Object.fromEntries(CREDENTIALS[provider].map(([key]) => [key, data.get(key)]));
    await api('PATCH', '/v1/program', { providers: { [provider]: values } });
    notify(`${provider} credentials set`);
    location.reload();
  });
  pick('stripe');
  return h('div', {}, h('h2', {}, 'Payment providers'),
    table([['Provider', (r) => r.name], ['Webhook path', (r) => h('span', { class: 'url' }, r.path)], ['Credentials', (r) => (r.set ? 'set' : 'not set')]], rows),
    h('p', { class: 'muted' }, 'Credentials are write-only: setting them replaces what is stored.'), form);
}

function secret(program) {
  const shown = h('p', { role: 'status' });
  const form = onSubmit(h('form', { id: 'rotate-form' },
    field('Current secret, to keep accepting it while senders switch (optional)', { name: 'old', type: 'password', autocomplete: 'off', 'data-field': 'custom_webhook.secrets' }),
    h('button', { type: 'submit' }, 'Rotate the custom-webhook secret')), async (data) => {
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    const fresh = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
    await api('PATCH', '/v1/program', { custom_webhook: { secrets: data.get('old') ? [fresh, data.get('old')] : [fresh] } });
    shown.replaceChildren('New secret (shown once; give it to your sender): ', h('code', { id: 'new-secret' }, fresh));
  });
  return h('div', {}, h('h2', {}, 'Custom webhook'),
    h('p', {}, `POST ${program.custom_webhook.path}, signed with HMAC-SHA256; secrets configured: ${program.custom_webhook.secrets_configured}.`),
    form, shown);
}

const postbacks = () => h('div', {}, h('h2', {}, 'Postbacks'),
  h('p', {}, 'Partners subscribe their own URLs with their partner key (POST /v1/postbacks). Each delivery is signed the Standard Webhooks way: the webhook-id, webhook-timestamp and webhook-signature headers, an HMAC-SHA256 with the postback\'s own secret, shown once when it is created or rotated.'));

function csvImport() {
  const preview = h('div', { id: 'import-preview' });
  let text = '';
  const run = async (dryRun) => {
    const result = await api('POST', `/v1/imports/transactions?dry_run=${dryRun}`, text, { type: 'text/csv' });
    // h() drops the parts that do not apply (replaceChildren would print them as text).
    preview.replaceChildren(h('div', {},
      h('p', { role: 'status' }, `${dryRun ? 'Dry run' : 'Import'}: ${result.rows} rows, ${result.created} ${dryRun ? 'would be created' : 'created'}, ${result.skipped} skipped, ${result.failed} failed.`),
      result.warnings.length ? h('ul', {}, result.warnings.map((w) => h('li', {}, w))) : null,
      table([['Row', (r) => r.row, 'num'], ['Key', (r) => r.key || ''], ['Result', (r) => r.status], ['Problem', (r) => (r.error ? `${r.error.field ? `${r.error.field}: ` : ''}${r.error.message}` : '')]], result.results),
      dryRun && result.failed === 0 && result.created > 0 ? h('button', { type: 'button', onclick: () => run(false).catch((e) => notify(e.message, true)) }, 'Import these rows') : null));
  };
  const form = onSubmit(h('form', { id: 'import-form' },
    field('CSV file (header: customer_key, amount or amount_decimal, currency, key, ...)', { name: 'file', type: 'file', accept: '.csv,text/csv' }),
    field('…or paste CSV', { name: 'csv', rows: 5 }),
    h('button', { type: 'submit' }, 'Dry run')), async (data) => {
    const file = data.get('file');
    text = file && file.size ? await file.text() : data.get('csv');
    await run(true);
  });
  return h('div', {}, h('h2', {}, 'Import transactions (CSV)'), form, preview);
}
