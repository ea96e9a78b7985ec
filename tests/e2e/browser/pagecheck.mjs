// Checks any browser scenario runs on a page it has open: axe-core's accessibility rules,
// text that does not fit its box, and a full-page screenshot kept as a test artifact.
// Each check is one TAP line (tap.mjs) that lists what it found when it fails; selfTest
// shows on a page made to fail that the checks can fail.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { ok } from './tap.mjs';

// axe-core on the whole page: its serious and critical violations, each with the elements
// it names.  Lesser findings are printed as comments, never silently dropped.
export async function axeFindings(page, what) {
  const r = await new AxeBuilder({ page }).analyze();
  if (r.passes.length === 0)
    return ['axe-core ran no rule'];
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of r.violations.filter((x) => !bad.includes(x)))
    console.log(`# ${what}: axe ${v.impact} ${v.id}: ${v.help}`);
  return bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n` + v.nodes.slice(0, 5)
    .map((n) => `  ${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`).join('\n'));
}

export async function axeClean(page, what) {
  const found = await axeFindings(page, what);
  return ok(found.length === 0, `${what}: axe-core finds no serious or critical violation`,
    found.join('\n'));
}

// Runs in the page: every element whose own text or content is wider than its box
// (scrollWidth > clientWidth), the page wider than the viewport, text squeezed to a
// character or two per line (a table column too narrow for its words), a short label
// of a button, link or column heading broken over lines, and a number broken over lines.
function findOverflow() {
  const out = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\s+/).join('.') : '');
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth)
    out.push(`page: ${doc.scrollWidth} px wide in a ${doc.clientWidth} px viewport`);
  for (const e of document.body.querySelectorAll('*')) {
    const text = (e.innerText || '').trim();
    const style = getComputedStyle(e);
    if (!text || style.display === 'inline' || style.display === 'none' || e.clientWidth === 0)
      continue;
    if (e.scrollWidth > e.clientWidth + 1)
      out.push(`${name(e)}: content ${e.scrollWidth} px in ${e.clientWidth} px: "${text.slice(0, 40)}"`);
  }
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    const chars = [...node.data.trim()].length;
    if (chars < 2 || !node.parentElement.offsetParent)
      continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    const short = node.parentElement.closest('button, th, a') && chars <= 12;
    const number = /^[0-9][0-9.,:%/-]*$/.test(node.data.trim());
    if ((chars >= 4 && tops.size >= 3 && chars / tops.size < 3) || ((short || number) && tops.size > 1))
      out.push(`${name(node.parentElement)}: "${node.data.trim().slice(0, 20)}" wraps over ${tops.size} lines (${chars} characters)`);
  }
  return out;
}

export function overflowFindings(page) {
  return page.evaluate(findOverflow);
}

export async function fits(page, what) {
  const found = await overflowFindings(page);
  return ok(found.length === 0, `${what}: no text overflows its container`, found.slice(0, 15).join('\n'));
}

// A full-page PNG in cfg.artifacts (the test output directory the runner keeps).
export async function screenshot(page, cfg, file) {
  mkdirSync(cfg.artifacts, { recursive: true });
  const path = join(cfg.artifacts, `${file}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

// All three on the page as it is now.
export async function checkPage(page, cfg, what, file) {
  await axeClean(page, what);
  await fits(page, what);
  await screenshot(page, cfg, file);
}

// The checks on a page with known faults: each fault must be found.
export async function selfTest(page) {
  await page.setContent(`<!DOCTYPE html><html><head><title>t</title></head><body><main>
    <p style="color:#bbb;background:#fff">faint</p><input type="text">
    <div style="width:5rem;white-space:nowrap" id="narrow">a line far too long for its box</div>
    <table style="width:12rem"><tr><td>有効期限の最終利用日時</td><td>2026-12-03T16:28:46Z-2026-12-03T16:28:46Z</td></tr></table>
    <button style="width:3rem">ログアウト</button>
    <table><tr><td style="width:.5rem;overflow-wrap:anywhere" id="seq">1234</td><td>a record</td></tr></table>
    <p style="width:2.5rem"><a href="#h">ヘルプ</a></p></main></body></html>`);
  const axe = (await axeFindings(page, 'self-test')).join('\n');
  ok(/color-contrast/.test(axe) && /label/.test(axe),
    'self-test: axe-core finds low contrast and an input without a label', axe);
  const o = (await overflowFindings(page)).join('\n');
  ok(/div#narrow: content/.test(o) && /td: "有効期限/.test(o) && /button: "ログアウト"/.test(o) &&
    /a: "ヘルプ"/.test(o) && /td#seq: "1234"/.test(o), 'self-test: an overflowing box, a squeezed ' +
    'column, broken button and link labels and a broken number are found', o);
}
