// Inbox: every received webhook, newest first, filtered by source and verdict, with its raw body,
// and a button that runs a stored one again after a fix.
import { all, api, enc } from './api.js';
import { h, when } from './ui.js';

const VERDICTS = ['accepted', 'skipped', 'ignored', 'pending', 'rejected'];

export default async function inbox(params) {
  const events = await all('/v1/events', 2000);
  const sources = [...new Set(events.map((e) => e.source))].sort();
  const list = h('div', { id: 'events', 'aria-live': 'polite' });
  const pick = (id, label, values, chosen) => h('div', { class: 'field' }, h('label', { for: id }, label),
    h('select', { id, onchange: render }, h('option', { value: '' }, 'All'),
      values.map((v) => h('option', { value: v, selected: v === chosen }, v))));
  const filters = h('form', { class: 'inline', role: 'search', onsubmit: (e) => e.preventDefault() },
    pick('filter-source', 'Source', sources, params.get('source')),
    pick('filter-verdict', 'Verdict', VERDICTS, params.get('verdict')));

  function render() {
    const source = filters.querySelector('#filter-source').value;
    const verdict = filters.querySelector('#filter-verdict').value;
    const shown = events.filter((e) => (!source || e.source === source) && (!verdict || e.verdict === verdict));
    list.replaceChildren(h('p', { class: 'muted' }, `${shown.length} of ${events.length} webhooks (kept 30 days).`),
      ...shown.map(entry));
  }
  render();
  return h('section', { 'aria-labelledby': 'inbox-title' },
    h('h1', { id: 'inbox-title' }, 'Inbox'), filters, list);
}

function entry(e) {
  return h('details', { class: 'event' },
    h('summary', {}, `${when(e.received_at)} · ${e.source} · `,
      h('span', { class: `badge verdict-${e.verdict}` }, e.verdict), ` ${e.http_status} ${e.outcome}`,
      e.transaction_key ? ` · ${e.transaction_key}` : ''),
    e.reason ? h('p', { class: 'error' }, `Reason: ${e.reason}`) : null,
    e.replay_of ? h('p', { class: 'muted' }, `Replay of ${e.replay_of}`) : null,
    e.body_truncated ? h('p', { class: 'muted' }, 'The body was cut to the first 64 KiB.') : null,
    h('pre', { tabindex: 0, 'aria-label': 'Raw body' }, pretty(e)),
    replay(e));
}

// Runs the stored body again through its source's code (kept as a new event); only an entry
// that kept its whole body can be, and a test URL's sample creates nothing.
function replay(e) {
  if (e.request || e.body_truncated || e.source === 'incoming-test') return null;
  const answer = h('p', { role: 'status', 'aria-live': 'polite' });
  const button = h('button', {
    type: 'button',
    'aria-label': `Replay the webhook received ${when(e.received_at)} from ${e.source}`,
    onclick: async () => {
      button.disabled = true;
      answer.className = '';
      try {
        const done = await api('POST', `/v1/events/${enc(e.id)}/replay`);
        answer.textContent = `Replayed: ${done.status}${done.reason ? ` (${done.reason})` : ''}, kept as event ${done.event_id}.`;
      } catch (err) {
        answer.className = 'error';
        answer.textContent = `Replay refused: ${err.message}`;
      } finally {
        button.disabled = false;
      }
    },
  }, 'Replay');
  return h('div', { class: 'replay' }, button, answer);
}

// The body pretty-printed, with the lines naming the field the reason names marked.
function pretty(e) {
  let text = e.body;
  if (e.body_encoding === 'base64') { try { text = atob(e.body); } catch { /* shown as stored */ } }
  try { text = JSON.stringify(JSON.parse(text), null, 2); } catch { /* not JSON: as received */ }
  const field = /^([A-Za-z_][\w.[\]]*):/.exec(e.reason || '')?.[1]?.split(/[.[]/).filter(Boolean).pop();
  if (!field) return text;
  return text.split('\n').map((line) => (line.includes(`"${field}":`) ? h('mark', {}, line) : line))
    .flatMap((part, i) => (i ? ['\n', part] : [part]));
}
