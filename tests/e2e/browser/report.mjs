// The monthly report (test_report.py) in headless Chromium, opened from its file: it
// renders with no request leaving the file and no script, its charts are there, a
// full-page screenshot and a printed PDF (page.pdf, A4) are kept as artifacts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, done, launch } from './tap.mjs';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const browser = await launch(cfg);
try {
  for (const r of cfg.reports) {
    const page = await browser.newPage({ viewport: { width: 1024, height: 800 } });
    const fetched = [];
    page.on('request', (q) => { if (!q.url().startsWith('file:')) fetched.push(q.url()); });
    const resp = await page.goto('file://' + r.html, { waitUntil: 'load' });
    ok(resp !== null && resp.ok(), `${r.lang}: report.html opens from its file`);
    ok(fetched.length === 0, `${r.lang}: nothing is fetched from the network`, fetched.join('\n'));
    const facts = await page.evaluate(() => ({
      scripts: document.scripts.length,
      charts: [...document.querySelectorAll('svg[role="img"]')]
        .filter((s) => s.getBoundingClientRect().width > 100).length,
      title: document.querySelector('h1')?.innerText || '',
      wide: document.documentElement.scrollWidth > document.documentElement.clientWidth,
    }));
    ok(facts.scripts === 0, `${r.lang}: no script`);
    ok(facts.charts === 6, `${r.lang}: six charts drawn (${facts.charts})`);
    ok(facts.title.includes(r.lang === 'ja' ? '月次レポート' : 'Monthly report'),
      `${r.lang}: the heading is in its language`, facts.title);
    ok(!facts.wide, `${r.lang}: nothing wider than the window`);
    const shot = join(cfg.artifacts, `report-${r.lang}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    ok(readFileSync(shot).subarray(1, 4).toString() === 'PNG', `${r.lang}: screenshot ${shot}`);
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    writeFileSync(join(cfg.artifacts, `report-${r.lang}.pdf`), pdf);
    ok(pdf.subarray(0, 4).toString() === '%PDF', `${r.lang}: printed to a PDF`);
    await page.close();
  }
} finally {
  await browser.close();
}
done();
