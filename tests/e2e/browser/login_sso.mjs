// A person in a real browser: login page in Japanese, language switch, login, the
// auto-submitted SAML form (script nonce and form-action under Sekisho's CSP), portal,
// logout.  Prints TAP lines.  usage: node login_sso.mjs CONFIG.json
import { readFileSync } from 'node:fs';
import { done, launch, ok } from './tap.mjs';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const browser = await launch(cfg);
try {
  const ctx = await browser.newContext({ locale: 'ja-JP', extraHTTPHeaders: { 'Accept-Language': 'ja' } });
  const page = await ctx.newPage();
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text()); });

  await page.goto(`${cfg.base}/saml/init/${cfg.app}`);
  ok((await page.textContent('h1')) === 'ログイン', 'IdP-initiated SSO without a session shows the login page in Japanese');
  const bg = await page.evaluate(() => getComputedStyle(document.querySelector('header.top')).backgroundColor);
  ok(bg === 'rgb(32, 58, 67)', 'the stylesheet loads under the CSP', bg);

  await page.click('a.lang');
  ok((await page.textContent('h1')) === 'Sign in', 'the language switch shows the page in English');
  await page.reload();
  ok((await page.textContent('h1')) === 'Sign in', 'the language choice sticks');

  await page.fill('#username', cfg.user);
  await page.fill('#password', 'not-the-password');
  await page.click('button[type=submit]');
  ok((await page.textContent('p.error')).includes('incorrect'), 'a wrong password shows an error on the form');

  await page.fill('#username', cfg.user);
  await page.fill('#password', cfg.password);
  await Promise.all([page.waitForURL(cfg.acs, { timeout: 15000 }), page.click('button[type=submit]')]);
  ok(page.url() === cfg.acs, 'after login the browser posts the SAML response to the ACS by itself');
  ok((await page.textContent('body')).includes('received SAMLResponse'), 'the ACS received a SAMLResponse');

  const cookies = await ctx.cookies(`${cfg.base}/`);
  const sid = cookies.find((c) => c.name === 'sekisho_sid');
  ok(sid && sid.httpOnly && sid.secure && sid.sameSite === 'Lax' && sid.path === `/t/${cfg.tenant}/`,
    'session cookie is HttpOnly, Secure, SameSite=Lax, scoped to the tenant', JSON.stringify(sid));

  await page.goto(`${cfg.base}/portal`);
  ok((await page.textContent('p.who')).includes(cfg.display), 'the portal shows the user');
  ok(await page.isVisible(`a[href="/t/${cfg.tenant}/saml/init/${cfg.app}"]`), 'the portal lists the app');

  await page.click('button[type=submit]');
  ok((await page.textContent('h1')) === 'Signed out', 'logout from the portal ends at the signed-out page');
  await page.goto(`${cfg.base}/portal`);
  ok(await page.isVisible('#password'), 'after logout the portal asks to log in again');
  ok(violations.length === 0, 'no Content Security Policy violations on any page', violations.join('\n'));
} catch (e) {
  ok(false, 'browser scenario ran to the end', e.stack);
} finally {
  await browser.close();
}
done();
