// Transactions: search by key, customer or partner; lists by status (and parked payments);
// assign an unassigned one to a partner; refund one.
import { all, api, enc } from './api.js';
import { dialog, field, h, money, notify, onSubmit, table, when } from './ui.js';

const STATUSES = ['unassigned', 'recorded', 'commissioned', 'refunded', 'parked'];

export default async function transactions(params) {
  const partners = await all('/v1/partners');
  const results = h('div', { id: 'tx-results' });
  const status = params.get('status') || 'unassigned';

  const search = onSubmit(h('form', { class: 'inline', role: 'search' },
    field('Search by', { name: 'by' }, [['key', 'Transaction key'], ['customer', 'Customer key'], ['partner', 'Partner key']]),
    field('Key', { name: 'q', required: true }),
    h('button', { type: 'submit' }, 'Search')), async (form) => {
    const q = form.get('q').trim();
    const by = form.get('by');
    if (by === 'key') show(`Transaction ${q}`, [await api('GET', `/v1/transactions/${enc(q)}`)]);
    else if (by === 'customer') show(`Customer ${q}'s transactions`, await all(`/v1/customers/${enc(q)}/transactions`));
    else {
      // A partner's sales are the transactions of its rewards (level 1, not clawbacks).
      const rewards = await all(`/v1/rewards?partner_key=${enc(q)}`);
      const keys = [...new Set(rewards.filter((r) => r.level === 1 && r.transaction_key && !r.reverses).map((r) => r.transaction_key))];
      show(`Partner ${q}'s transactions`, await Promise.all(keys.map((k) => api('GET', `/v1/transactions/${enc(k)}`))));
    }
  });

  const statusPicker = h('form', { class: 'inline', onsubmit: (e) => e.preventDefault() },
    field('List', { name: 'status', id: 'tx-status', onchange: (e) => { location.hash = `transactions?status=${e.target.value}`; } },
      STATUSES.map((s) => [s, s === 'parked' ? 'parked payments' : s])));
  statusPicker.querySelector('select').value = status;

  function show(title, rows) {
    results.replaceChildren(h('h2', {}, title), table([
      ['Key', (t) => t.key],
      ['Date', (t) => when(t.created_at)],
      ['Amount', (t) => money(t.amount_decimal, t.currency), 'num'],
      ['Refunded', (t) => money(t.refunded_amount_decimal, t.currency), 'num'],
      ['Status', (t) => t.status],
      ['Customer', (t) => t.customer_key || ''],
      ['Partner', (t) => t.partner_key || ''],
      ['', (t) => h('div', { class: 'row' },
        t.status === 'unassigned' ? h('button', { type: 'button', onclick: () => assign(t) }, `Assign ${t.key}`) : null,
        t.status !== 'refunded' ? h('button', { type: 'button', class: 'secondary', onclick: () => refund(t) }, 'Refund') : null)],
    ], rows, 'No transactions.'));
  }

  function assign(t) {
    const box = dialog(`Assign ${t.key}`, onSubmit(h('form', {},
      field('Partner', { name: 'partner_key', 'data-field': 'partner_key' }, partners.map((p) => [p.key, `${p.name} (${p.key})`])),
      h('button', { type: 'submit' }, 'Assign')), async (form) => {
      await api('POST', `/v1/transactions/${enc(t.key)}/assign`, { partner_key: form.get('partner_key') });
      notify(`${t.key} assigned to ${form.get('partner_key')}`);
      box.close();
      list();
    }));
  }

  function refund(t) {
    const box = dialog(`Refund ${t.key}`, onSubmit(h('form', {},
      h('p', { class: 'muted' }, `Paid ${money(t.amount_decimal, t.currency)}, refunded so far ${money(t.refunded_amount_decimal, t.currency)}.`),
      field('Amount in minor units (empty: the rest)', { name: 'amount', type: 'number', min: 1, 'data-field': 'amount' }),
      h('button', { type: 'submit' }, 'Refund')), async (form) => {
      const amount = form.get('amount');
      await api('POST', `/v1/transactions/${enc(t.key)}/refunds`, amount ? { amount: Number(amount) } : {});
      notify(`${t.key} refunded`);
      box.close();
      list();
    }));
  }

  async function list() {
    if (status === 'parked') {
      const parked = await all('/v1/parked-payments');
      results.replaceChildren(h('h2', {}, 'Parked payments (waiting for their customer)'), table([
        ['Transaction', (p) => p.transaction_key], ['Received', (p) => when(p.received_at)],
        ['Amount', (p) => money(p.amount_decimal, p.currency), 'num'], ['Provider', (p) => p.provider],
        ['Waiting for', (p) => p.waiting_for],
      ], parked, 'No parked payments.'));
    } else show(`${status[0].toUpperCase()}${status.slice(1)} transactions`, await all(`/v1/transactions?status=${status}`));
  }
  await list();
  return h('section', { 'aria-labelledby': 'tx-title' }, h('h1', { id: 'tx-title' }, 'Transactions'), search, statusPicker, results);
}
