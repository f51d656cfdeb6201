// The console's shell: log in with the admin key, then one page per hash (#inbox?verdict=...).
import { adminKey, api } from './api.js';
import { h } from './ui.js';
import overview from './overview.js';
import inbox from './inbox.js';
import transactions from './transactions.js';
import partners from './partners.js';
import rewards from './rewards.js';
import hooks from './hooks.js';
import settings from './settings.js';

const PAGES = { overview, inbox, transactions, partners, rewards, hooks, settings };
const $ = (id) => document.getElementById(id);

function route() {
  const [name, query] = location.hash.slice(1).split('?');
  return { name: PAGES[name] ? name : 'overview', params: new URLSearchParams(query || '') };
}

async function show() {
  const loggedIn = Boolean(adminKey.get());
  $('login').hidden = loggedIn;
  $('nav').hidden = !loggedIn;
  const page = $('page');
  page.replaceChildren();
  if (!loggedIn) { $('admin-key').focus(); return; }
  const { name, params } = route();
  for (const link of $('nav').querySelectorAll('a')) {
    if (link.getAttribute('href') === `#${name}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  page.append(h('p', { class: 'muted' }, 'Loading…'));
  try {
    const content = await PAGES[name](params);
    page.replaceChildren(content);
  } catch (e) {
    if (e.status === 401) { adminKey.clear(); $('login-error').textContent = 'The key was refused; paste it again.'; show(); return; }
    page.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not load this page: ${e.message}`));
  }
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · Partnerhook console`;
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = $('admin-key').value.trim();
  adminKey.set(key);
  try {
    await api('GET', '/v1/program');
    $('admin-key').value = '';
    $('login-error').textContent = '';
    show();
    $('main').focus();
  } catch (e) {
    adminKey.clear();
    $('login-error').textContent = e.status === 401 || e.status === 403
      ? 'That key is not an admin key of a program here.' : e.message;
  }
});
$('logout').addEventListener('click', () => { adminKey.clear(); location.hash = ''; show(); });
// A new page starts with no old notices over it.
window.addEventListener('hashchange', () => { $('toast').replaceChildren(); show(); $('main').focus(); });
show();
