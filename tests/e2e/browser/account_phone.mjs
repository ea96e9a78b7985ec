// The account page on a phone: Chromium at 390 CSS pixels wide, in Japanese.  Nothing may
// need horizontal scrolling (tables become stacked rows), the stylesheet and every page
// load under the CSP.  Prints TAP lines.  usage: node account_phone.mjs CONFIG.json
import { readFileSync } from 'node:fs';
import { done, launch, ok } from './tap.mjs';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// Widths wider than the viewport: the page's and each element's that sticks out.
async function overflow(page) {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > w + 1)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className}: ${Math.round(e.getBoundingClientRect().right)}`);
    return { scroll: document.documentElement.scrollWidth, width: w, wide: wide.slice(0, 10) };
  });
}

async function fits(page, what) {
  const o = await overflow(page);
  ok(o.scroll <= o.width && o.wide.length === 0, `${what}: no horizontal overflow at ${o.width} px`,
    JSON.stringify(o));
}

const browser = await launch(cfg);
try {
  const ctx = await browser.newContext({
    locale: 'ja-JP', extraHTTPHeaders: { 'Accept-Language': 'ja' },
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true,
  });
  const page = await ctx.newPage();
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text()); });

  await page.goto(`${cfg.base}/account`);
  ok(await page.isVisible('#password'), 'the account page asks to sign in first', page.url());
  await fits(page, 'login page');
  await page.fill('#username', cfg.user);
  await page.fill('#password', cfg.password);
  await Promise.all([page.waitForNavigation(), page.click('form:has(#password) button[type=submit]')]);
  await page.goto(`${cfg.base}/account`);
  ok((await page.textContent('h1')) === 'アカウント設定', 'the account page in Japanese', await page.textContent('h1'));
  await fits(page, 'account page');
  const display = await page.evaluate(() => {
    const td = document.querySelector('tr[data-session] td');
    return td ? getComputedStyle(td).display : null;
  });
  ok(display === 'block', 'table cells are stacked on a phone', display);
  ok(await page.isVisible('tr[data-session][data-current]'), 'this browser\'s session is listed and marked');
  ok(await page.isVisible('tr[data-factor-id]'), 'the factors table is shown');
  const label = await page.evaluate(() => {
    const td = document.querySelector('tr[data-session] td');
    return td ? getComputedStyle(td, '::before').content : null;
  });
  ok(label && label.includes('アドレス'), 'each stacked cell is labelled with its column', label);

  await page.goto(`${cfg.base}/account/totp`);
  ok(await page.isVisible('div.qr svg'), 'the TOTP page shows the QR code');
  await fits(page, 'TOTP enrolment page');
  await page.goto(`${cfg.base}/account/passkey`);
  ok(await page.isVisible('button[data-webauthn="create"]'), 'the passkey page has its button');
  await fits(page, 'passkey page');
  await page.goto(`${cfg.base}/reset`);
  await fits(page, 'password reset page');
  ok(violations.length === 0, 'no Content Security Policy violations', violations.join('\n'));
} catch (e) {
  ok(false, 'browser scenario ran to the end', e.stack);
} finally {
  await browser.close();
}
done();
