// Rewards and payouts: a partner's rewards by status, reviewed one by one; a payout of what is
// approved, and its CSV for accounting.
import { all, api, enc } from './api.js';
import { download, field, h, money, notify, onSubmit, table, when } from './ui.js';

const STATUSES = ['pending', 'hold', 'approved', 'declined', 'paid'];
const REVIEWS = { pending: ['approve', 'hold', 'decline'], hold: ['approve', 'decline'], approved: ['hold', 'decline'] };

export default async function rewards(params) {
  const [partners, program] = await Promise.all([all('/v1/partners'), api('GET', '/v1/program')]);
  if (!partners.length) return h('section', {}, h('h1', {}, 'Rewards and payouts'), h('p', {}, 'No partners yet.'));
  const body = h('div', { id: 'rewards-body' });
  const refresh = () => render().catch((e) => notify(e.message, true));
  const picker = h('form', { class: 'inline', onsubmit: (e) => e.preventDefault() },
    field('Partner', { id: 'reward-partner', onchange: refresh }, partners.map((p) => [p.key, `${p.name} (${p.key})`])),
    field('Status', { id: 'reward-status', onchange: refresh }, [['', 'All'], ...STATUSES.map((s) => [s, s])]));
  picker.querySelector('#reward-partner').value = params.get('partner') || partners[0].key;
  picker.querySelector('#reward-status').value = params.get('status') || '';

  async function render() {
    const partner = picker.querySelector('#reward-partner').value;
    const status = picker.querySelector('#reward-status').value;
    const [list, payouts] = await Promise.all([all(`/v1/rewards?partner_key=${enc(partner)}`), all(`/v1/payouts?partner_key=${enc(partner)}`)]);
    const shown = list.filter((r) => !status || r.reward_status === status);
    const currencies = [...new Set([program.currency, ...list.map((r) => r.currency)])];
    const pay = onSubmit(h('form', { class: 'inline' },
      field('Currency', { name: 'currency', 'data-field': 'currency' }, currencies.map((c) => [c, c])),
      h('button', { type: 'submit' }, 'Pay approved rewards')), async (form) => {
      const payout = await api('POST', '/v1/payouts', { partner_key: partner, currency: form.get('currency') });
      notify(`Payout ${payout.id}: ${money(payout.total_decimal, payout.currency)} for ${payout.reward_count} rewards`);
      await render();
    });
    body.replaceChildren(
      h('h2', {}, 'Rewards'),
      table([['Reward', (r) => r.key], ['Date', (r) => when(r.created_at)], ['Amount', (r) => money(r.amount_decimal, r.currency), 'num'],
        ['What for', (r) => r.description], ['Status', (r) => r.reward_status],
        ['Review', (r) => h('div', { class: 'row' }, (REVIEWS[r.reward_status] || []).map((verb) => h('button', {
          type: 'button', class: verb === 'approve' ? '' : 'secondary', 'aria-label': `${verb} ${r.key}`,
          onclick: async () => {
            try { await api('POST', `/v1/rewards/${enc(r.key)}/${verb}`, {}); notify(`${r.key}: ${verb} done`); await render(); } catch (e) { notify(e.message, true); }
          },
        }, verb)))]], shown, 'No rewards with this status.'),
      h('h2', {}, 'New payout'), pay,
      h('h2', {}, 'Payouts'),
      table([['Payout', (p) => p.id], ['Date', (p) => when(p.created_at)], ['Total', (p) => money(p.total_decimal, p.currency), 'num'],
        ['Rewards', (p) => p.reward_count, 'num'], ['Status', (p) => p.status],
        ['CSV', (p) => h('button', { type: 'button', class: 'secondary', onclick: () => csv(p.id) }, `Download ${p.id}.csv`)]], payouts, 'No payouts yet.'));
  }

  async function csv(id) {
    try { download(`${id}.csv`, await api('GET', `/v1/payouts/${enc(id)}.csv`, undefined, { text: true })); } catch (e) { notify(e.message, true); }
  }
  await render();
  return h('section', { 'aria-labelledby': 'rewards-title' }, h('h1', { id: 'rewards-title' }, 'Rewards and payouts'), picker, body);
}
