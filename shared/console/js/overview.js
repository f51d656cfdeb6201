// Overview: sales, refunds and commissions per day for 30 days, and what needs a look (24 h).
import { all, api, enc } from './api.js';
import { h } from './ui.js';
import { dailyChart } from './chart.js';

const DAY = 86400000;
const STATUSES = ['recorded', 'commissioned', 'unassigned', 'refunded'];

const dayOf = (ms) => new Date(ms).toISOString().slice(0, 10);

export default async function overview() {
  const now = Date.now();
  const since = now - 30 * DAY;
  const days = Array.from({ length: 30 }, (_, i) => dayOf(now - (29 - i) * DAY));
  const program = await api('GET', '/v1/program');
  const currency = program.currency;
  const [lists, partners, parked, events] = await Promise.all([
    Promise.all(STATUSES.map((s) => all(`/v1/transactions?status=${s}`))),
    all('/v1/partners'),
    all('/v1/parked-payments'),
    all('/v1/events', 2000),
  ]);
  const transactions = lists.flat();
  const rewards = (await Promise.all(partners.map((p) => all(`/v1/rewards?partner_key=${enc(p.key)}`)))).flat();

  const sum = (items, when, amount) => {
    const by = Object.fromEntries(days.map((d) => [d, 0]));
    for (const item of items) {
      const at = when(item);
      if (item.currency === currency && at >= since && by[dayOf(at)] !== undefined) by[dayOf(at)] += Number(amount(item)) || 0;
    }
    return days.map((d) => by[d]);
  };
  const sales = sum(transactions, (t) => t.created_at, (t) => t.amount_decimal);
  const refunds = sum(transactions.filter((t) => Number(t.refunded_amount_decimal) > 0), (t) => t.updated_at, (t) => t.refunded_amount_decimal);
  const commissions = sum(rewards.filter((r) => !r.reverses), (r) => r.created_at, (r) => r.amount_decimal);

  const recent = (items, when) => items.filter((i) => when(i) >= now - DAY).length;
  const counts = [
    ['Unassigned transactions', recent(lists[2], (t) => t.created_at), '#transactions?status=unassigned'],
    ['Parked payments', recent(parked, (p) => p.received_at), '#transactions?status=parked'],
    ['Rejected webhooks', recent(events.filter((e) => e.verdict === 'rejected'), (e) => e.received_at), '#inbox?verdict=rejected'],
  ];
  return h('section', { 'aria-labelledby': 'overview-title' },
    h('h1', { id: 'overview-title' }, `Overview: ${program.name}`),
    h('h2', {}, 'Last 24 hours'),
    h('div', { class: 'cards' }, counts.map(([label, n, href]) => h('a', { class: 'card', href, id: `count-${href.split('=')[1]}` },
      h('span', { class: 'big' }, String(n)), label))),
    h('h2', {}, 'Last 30 days'),
    h('p', { class: 'muted' }, `Amounts in ${currency}, the program's currency; sales by their date, refunds by when they were last refunded, commissions by when they were earned (clawbacks left out).`),
    h('div', { class: 'charts', id: 'charts' },
      dailyChart('Sales', days, sales, currency),
      dailyChart('Refunds', days, refunds, currency),
      dailyChart('Commissions', days, commissions, currency)));
}
