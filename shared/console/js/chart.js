// A daily bar chart as SVG: one chart per series (so no colour is needed to tell them apart),
// labelled axes, a title for screen readers, and every bar's value in its tooltip.
import { h } from './ui.js';

const W = 320, H = 140, LEFT = 44, BOTTOM = 18, TOP = 8;

export function dailyChart(title, days, values, unit) {
  const max = Math.max(...values, 0);
  const top = max > 0 ? niceCeil(max) : 1;
  const slot = (W - LEFT) / days.length;
  const bar = Math.max(slot - 2, 1);
  const y = (v) => TOP + (H - TOP - BOTTOM) * (1 - v / top);
  const total = values.reduce((a, b) => a + b, 0);
  const label = `${title}, last ${days.length} days: total ${fmt(total)} ${unit}, highest day ${fmt(max)}`;
  return h('figure', {},
    h('figcaption', {}, `${title} (${unit})`),
    h('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label },
      h('title', {}, label),
      h('line', { class: 'axis', x1: LEFT, x2: W, y1: y(0), y2: y(0) }),
      h('line', { class: 'axis', x1: LEFT, x2: LEFT, y1: TOP, y2: y(0) }),
      h('text', { x: LEFT - 4, y: y(top) + 8, 'text-anchor': 'end' }, fmt(top)),
      h('text', { x: LEFT - 4, y: y(0), 'text-anchor': 'end' }, '0'),
      h('text', { x: LEFT, y: H - 4 }, days[0]),
      h('text', { x: W, y: H - 4, 'text-anchor': 'end' }, days[days.length - 1]),
      values.map((v, i) => h('rect', {
        x: LEFT + i * slot + 1, y: y(v), width: bar, height: Math.max(y(0) - y(v), v > 0 ? 1 : 0),
        fill: 'currentColor', 'data-day': days[i], 'data-value': v,
      }, h('title', {}, `${days[i]}: ${fmt(v)} ${unit}`)))),
    h('p', { class: 'muted' }, `Total ${fmt(total)} ${unit}`));
}

function niceCeil(v) {
  const step = 10 ** Math.floor(Math.log10(v));
  return Math.ceil(v / step) * step;
}

const fmt = (v) => (Math.round(v * 100) / 100).toLocaleString('en');
