// Passkeys in a real browser: Chromium's virtual authenticator (DevTools WebAuthn domain:
// CTAP2, internal, resident keys, user verification) registers a passkey on the account
// page, signs in with it as a second factor after the password and then without a name or
// password at all; each sign-in also goes through an OIDC authorization whose code the test
// redeems.  Prints TAP lines and writes the authenticator's credentials (private key and
// counter) to cfg.out for the assertions the test crafts itself.
// usage: node passkey.mjs CONFIG.json
import { readFileSync, writeFileSync } from 'node:fs';
import { done, launch, ok } from './tap.mjs';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const browser = await launch(cfg);
const csp = new Map();		// page URL -> its Content-Security-Policy
const violations = [];

// What the page's script said went wrong, for a failure's detail.
async function pageError(page) {
  const el = await page.$('[data-webauthn-error]');
  const msg = el ? await el.textContent() : '(no [data-webauthn-error] element)';
  return `at ${page.url()}: ${msg}\n${[...new Set(violations)].join('\n')}`;
}

// Click the passkey button sel and wait for the POST its form makes to a URL ending in
// path: the POST's status (0 when none came), once the page it led to has loaded.
async function passkeyPost(page, sel, path) {
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' &&
    new URL(r.url()).pathname.endsWith(path), { timeout: 20000 });
  await page.click(sel);
  let status = 0;
  try {
    status = (await posted).status();
    await page.waitForLoadState('load');
  } catch (e) {
    return { status, detail: await pageError(page) };
  }
  return { status, detail: `at ${page.url()}` };
}

async function login(page, password) {
  await page.fill('#username', cfg.user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form:has(#password) button[type=submit]')]);
}

// Sign out from the portal (when signed in): true when no session cookie is left.
async function logout(page) {
  await page.goto(`${cfg.base}/portal`);
  if (await page.$('form[action$="logout"]')) {
    await Promise.all([page.waitForNavigation(),
      page.click('form[action$="logout"] button[type=submit]')]);
  }
  const sid = (await page.context().cookies(`${cfg.base}/`)).find((c) => c.name === 'sekisho_sid');
  return !sid;
}

async function onPortal(page, what) {
  // The answer to the form came; the redirect it names may still be loading.
  await page.waitForURL((u) => u.pathname === `/t/${cfg.tenant}/portal`, { timeout: 30000 })
    .catch(() => {});
  await page.waitForLoadState('load').catch(() => {});
  const url = new URL(page.url());
  ok(url.pathname === `/t/${cfg.tenant}/portal`, `${what}: the browser is on the portal`, page.url());
  const who = await page.$('p.who');
  ok(who && (await who.textContent()).includes(cfg.display), `${what}: the portal shows the user`);
}

// The OIDC authorization with the session in the browser: the code reaches the redirect URI.
async function authorize(page, url, what) {
  await page.goto(url).catch(() => {});	// nothing needs to answer at the redirect URI
  ok(page.url().startsWith(cfg.redirect) && new URL(page.url()).searchParams.get('code'),
    `${what}: the OIDC authorization returns a code`, page.url());
}

try {
  const ctx = await browser.newContext({ locale: 'en-US', extraHTTPHeaders: { 'Accept-Language': 'en' } });
  const page = await ctx.newPage();
  page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text()); });
  page.on('response', (r) => {
    if (r.request().resourceType() === 'document' && r.status() === 200 && r.url().startsWith(cfg.origin))
      csp.set(r.url(), r.headers()['content-security-policy'] || '');
  });
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  const creds = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;

  // ---- registration on the account page, after a password login
  await page.goto(`${cfg.base}/account`);
  ok(await page.isVisible('#password'), 'the account page without a session asks to sign in', page.url());
  await login(page, cfg.password);
  await page.goto(`${cfg.base}/account/passkey`);
  const create = await page.$('button[data-webauthn="create"]');
  if (!ok(create, 'account/passkey has a create button', page.url()))
    throw new Error('no create button');
  ok(await create.getAttribute('data-rp') === cfg.rp, `the create button names the RP ID ${cfg.rp}`,
    await create.getAttribute('data-rp'));
  ok((await create.getAttribute('data-challenge') || '').match(/^[A-Za-z0-9_-]{43}$/),
    'the create button carries a 32-byte challenge in base64url');
  if (await page.$('input[name=label]')) await page.fill('input[name=label]', cfg.label);
  let res = await passkeyPost(page, 'button[data-webauthn="create"]', '/account/passkey');
  ok(res.status > 0 && res.status < 400, 'the registration is posted and accepted',
    `status ${res.status} ${res.detail}`);
  let list = await creds();
  ok(list.length === 1 && list[0].isResidentCredential && list[0].rpId === cfg.rp,
    'the virtual authenticator holds one discoverable credential for the RP ID', JSON.stringify(list));
  await page.goto(`${cfg.base}/account`);
  const rows = await page.$$('tr[data-factor-id]');
  const rowText = rows.length ? await rows[0].textContent() : '';
  ok(rows.length === 1 && rowText.includes(cfg.label), 'the account page lists the passkey with its label',
    `${rows.length} rows: ${rowText}`);
  ok(await logout(page), 'signing out ends the session cookie');

  // ---- password, then the passkey as the second factor
  await page.goto(`${cfg.base}/portal`);
  await login(page, cfg.password);
  ok(new URL(page.url()).pathname === `/t/${cfg.tenant}/login/factor`,
    'after the password the browser is asked for a second factor', page.url());
  let sid = (await ctx.cookies(`${cfg.base}/`)).find((c) => c.name === 'sekisho_sid');
  ok(!sid, 'no session before the second factor', JSON.stringify(sid));
  const get = await page.$('button[data-webauthn="get"]');
  if (!ok(get, 'login/factor offers the passkey', page.url()))
    throw new Error('no passkey button on login/factor');
  const allow = (await get.getAttribute('data-allow') || '').split(',');
  const credId = list[0].credentialId.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  ok(allow.includes(credId), 'the passkey button allows the registered credential', allow.join(','));
  res = await passkeyPost(page, 'button[data-webauthn="get"]', '/login/factor');
  ok(res.status > 0 && res.status < 400, 'the assertion is accepted as the second factor',
    `status ${res.status} ${res.detail}`);
  await onPortal(page, 'password + passkey');
  await authorize(page, cfg.authorize[0], 'password + passkey');
  ok(await logout(page), 'signing out again');

  // ---- the authenticator refuses user verification: the page says so, nothing starts
  await page.goto(`${cfg.base}/login`);
  const pw = await page.$('button[data-webauthn="get"]');
  if (!ok(pw, 'the login page offers "sign in with a passkey"', page.url()))
    throw new Error('no passkey button on the login page');
  ok(await pw.getAttribute('data-uv') === 'required', 'passwordless sign-in requires user verification',
    await pw.getAttribute('data-uv'));
  await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
  await page.click('button[data-webauthn="get"]');
  const err = await page.waitForFunction(() => {
    const e = document.querySelector('[data-webauthn-error]');
    return e && e.textContent.trim() !== '' && e.textContent;
  }, null, { timeout: 15000 }).then((h) => h.jsonValue()).catch(() => null);
  ok(err && new URL(page.url()).pathname === `/t/${cfg.tenant}/login`,
    'a passkey without user verification: the page shows an error and stays', await pageError(page));
  const alert = await page.$('[data-webauthn-error]');
  ok(alert && await alert.getAttribute('role') === 'alert', 'the error element has role="alert"');
  await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });

  // ---- passwordless: no name typed, the discoverable credential says who
  await page.goto(`${cfg.base}/login`);
  res = await passkeyPost(page, 'button[data-webauthn="get"]', '/login/passkey');
  ok(res.status > 0 && res.status < 400, 'the passwordless assertion is accepted',
    `status ${res.status} ${res.detail}`);
  await onPortal(page, 'passwordless');
  sid = (await ctx.cookies(`${cfg.base}/`)).find((c) => c.name === 'sekisho_sid');
  ok(sid && sid.httpOnly && sid.secure, 'passwordless: a session cookie (HttpOnly, Secure)', JSON.stringify(sid));
  await authorize(page, cfg.authorize[1], 'passwordless');

  list = await creds();
  writeFileSync(cfg.out, JSON.stringify(list));
  ok(list.length === 1 && list[0].signCount >= 2, 'the authenticator counted its signatures',
    JSON.stringify(list.map((c) => c.signCount)));

  const pages = [...csp.entries()];
  ok(pages.length > 0 && pages.every(([, v]) => v !== '' && !v.includes('unsafe-inline')),
    'every page has a Content-Security-Policy without unsafe-inline',
    pages.map(([u, v]) => `${u}: ${v}`).join('\n'));
  ok(violations.length === 0, 'no Content Security Policy violations on any page',
    [...new Set(violations)].join('\n'));
} catch (e) {
  ok(false, 'browser scenario ran to the end', e.stack);
} finally {
  await browser.close();
}
done();
