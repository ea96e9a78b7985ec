// The pages a person meets every day, in Japanese and English, on a phone and a desktop:
// login, portal, account and devices.  On each: axe-core clean, no text overflowing its
// box, no CSP violation, and a screenshot kept as a test artifact.  Prints TAP lines.
// usage: node pages.mjs CONFIG.json
import { readFileSync } from 'node:fs';
import { done, launch, ok } from './tap.mjs';
import { checkPage, selfTest } from './pagecheck.mjs';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const LANGS = {
  ja: { locale: 'ja-JP', login: 'ログイン', portal: 'アプリケーション', account: 'アカウント', devices: 'あなたの端末' },
  en: { locale: 'en-US', login: 'Sign in', portal: 'Your applications', account: 'Your account', devices: 'Your devices' },
};
const SIZES = {
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 800 } },
};

async function visit(page, lang, size, what, path, heading) {
  if (path)
    await page.goto(`${cfg.base}/${path}`);
  const h1 = (await page.textContent('h1')) || '';
  ok(h1.includes(heading), `${lang} ${size} ${what}: the page in its language`, h1);
  await checkPage(page, cfg, `${lang} ${size} ${what}`, `${lang}-${size}-${what}`);
}

async function run(browser, lang, size) {
  const l = LANGS[lang];
  const ctx = await browser.newContext({
    ...SIZES[size], locale: l.locale, extraHTTPHeaders: { 'Accept-Language': lang },
  });
  const page = await ctx.newPage();
  const csp = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) csp.push(m.text()); });
  try {
    await page.goto(`${cfg.base}/portal`);
    await visit(page, lang, size, 'login', null, l.login);
    await page.fill('#username', cfg.user);
    await page.fill('#password', cfg.password);
    await Promise.all([page.waitForNavigation(), page.click('form:has(#password) button[type=submit]')]);
    await visit(page, lang, size, 'portal', 'portal', l.portal);
    await visit(page, lang, size, 'account', 'account', l.account);
    await visit(page, lang, size, 'devices', 'certs', l.devices);
    ok(csp.length === 0, `${lang} ${size}: no Content Security Policy violation`, csp.join('\n'));
  } finally {
    await ctx.close();
  }
}

const browser = await launch(cfg);
try {
  const probe = await browser.newContext();
  await selfTest(await probe.newPage());
  await probe.close();
  for (const lang of Object.keys(LANGS))
    for (const size of Object.keys(SIZES))
      await run(browser, lang, size);
} catch (e) {
  ok(false, 'browser scenario ran to the end', e.stack);
} finally {
  await browser.close();
}
done();
