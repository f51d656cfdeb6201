// Partners and customers: create; a partner's group, referral chain, rewards and balance.
import { all, api, enc } from './api.js';
import { compact, field, h, money, notify, onSubmit, table, when } from './ui.js';

export default async function partners() {
  const [people, groups, customers] = await Promise.all([all('/v1/partners'), all('/v1/groups'), all('/v1/customers')]);
  const byKey = Object.fromEntries(people.map((p) => [p.key, p]));
  const detail = h('div', { id: 'partner-detail', tabindex: -1 });

  const create = onSubmit(h('form', { class: 'inline', id: 'new-partner' },
    field('Email', { name: 'email', type: 'email', required: true, 'data-field': 'email' }),
    field('Name', { name: 'name', required: true, 'data-field': 'name' }),
    field('Key (referral code, optional)', { name: 'key', 'data-field': 'key' }),
    field('External id (optional, as senders name it)', { name: 'id', 'data-field': 'id' }),
    field('Referred by (partner key, optional)', { name: 'referring_partner_key', 'data-field': 'referring_partner_key' }),
    h('button', { type: 'submit' }, 'Create partner')), async (form) => {
    const body = compact({ email: form.get('email'), name: form.get('name'), key: form.get('key'), id: form.get('id'), referring_partner_key: form.get('referring_partner_key') });
    const made = await api('POST', '/v1/partners', body);
    notify(`Partner ${made.key} created`);
    location.hash = `partners?created=${enc(made.key)}`;
  });

  async function open(p) {
    const [balance, rewards] = await Promise.all([api('GET', `/v1/partners/${enc(p.key)}/balance`), all(`/v1/rewards?partner_key=${enc(p.key)}`)]);
    const chain = [];
    for (let up = byKey[p.referring_partner_key]; up && !chain.includes(up); up = byKey[up.referring_partner_key]) chain.push(up);
    const group = onSubmit(h('form', { class: 'inline' },
      field('Group', { name: 'group_key', 'data-field': 'group_key' }, [['', "The program's plan"], ...groups.map((g) => [g.key, g.name])]),
      h('button', { type: 'submit' }, 'Save group')), async (form) => {
      p = await api('PATCH', `/v1/partners/${enc(p.key)}`, { group_key: form.get('group_key') || null });
      notify(`${p.name} is now in ${p.group_key || "the program's plan"}`);
    });
    group.querySelector('select').value = p.group_key || '';
    detail.replaceChildren(h('h2', {}, `${p.name} (${p.key})`),
      h('p', {}, `${p.email} · joined ${when(p.created_at)}`),
      h('p', {}, 'Referral chain: ', chain.length ? [p.name, ...chain.map((c) => c.name)].join(' ← ') : 'referred by nobody'),
      group,
      h('h3', {}, 'Balance'),
      table([['Currency', (b) => b.currency], ['Pending', (b) => b.pending_decimal, 'num'], ['On hold', (b) => b.on_hold_decimal, 'num'],
        ['Approved', (b) => b.approved_decimal, 'num'], ['Paid', (b) => b.paid_decimal, 'num'], ['Clawed back', (b) => b.clawed_back_decimal, 'num']], balance.data, 'No rewards yet.'),
      h('h3', {}, 'Rewards'),
      table([['Reward', (r) => r.key], ['Date', (r) => when(r.created_at)], ['Amount', (r) => money(r.amount_decimal, r.currency), 'num'],
        ['Status', (r) => r.reward_status]], rewards, 'No rewards yet.'),
      h('p', {}, h('a', { href: `#rewards?partner=${enc(p.key)}` }, 'Review these rewards')));
    detail.focus();
  }

  const newGroup = onSubmit(h('form', { class: 'inline' },
    field('Group key', { name: 'key', required: true, 'data-field': 'key' }),
    field('Group name', { name: 'name', required: true, 'data-field': 'name' }),
    h('button', { type: 'submit' }, 'Create group')), async (form) => {
    await api('POST', '/v1/groups', { key: form.get('key'), name: form.get('name') });
    notify(`Group ${form.get('name')} created; set its plan with the API's PATCH /v1/groups/{key}`);
    location.hash = `partners?group=${enc(form.get('key'))}`;
  });

  const newCustomer = onSubmit(h('form', { class: 'inline' },
    field('Customer email', { name: 'email', type: 'email', required: true, 'data-field': 'email' }),
    field('Customer name', { name: 'name', required: true, 'data-field': 'name' }),
    field('Customer key (optional)', { name: 'key', 'data-field': 'key' }),
    field('Partner', { name: 'partner_key', 'data-field': 'partner_key' }, [['', 'None'], ...people.map((p) => [p.key, p.name])]),
    h('button', { type: 'submit' }, 'Create customer')), async (form) => {
    const made = await api('POST', '/v1/customers', compact(Object.fromEntries(form)));
    notify(`Customer ${made.key} created`);
    location.hash = `partners?customer=${enc(made.key)}`;
  });

  return h('section', { 'aria-labelledby': 'partners-title' },
    h('h1', { id: 'partners-title' }, 'Partners and customers'),
    h('h2', {}, 'New partner'), create,
    h('h2', {}, 'Partners'),
    table([['Name', (p) => h('button', { type: 'button', class: 'link', onclick: () => open(p) }, p.name)], ['Key', (p) => p.key], ['Email', (p) => p.email],
      ['Group', (p) => p.group_key || ''], ['Referred by', (p) => p.referring_partner_key || '']], people, 'No partners yet.'),
    detail,
    h('h2', {}, 'Groups'),
    table([['Key', (g) => g.key], ['Name', (g) => g.name], ['Levels', (g) => g.commission.levels.join(', ')]], groups, 'No groups.'),
    newGroup,
    h('h2', {}, 'Customers'),
    table([['Key', (c) => c.key], ['Name', (c) => c.name || ''], ['Email', (c) => c.email || ''], ['Partner', (c) => c.partner_key || ''],
      ['Paid', (c) => (c.has_paid ? 'yes' : 'no')]], customers, 'No customers yet.'),
    h('h2', {}, 'New customer'), newCustomer);
}
