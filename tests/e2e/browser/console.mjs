// The admin console in Chromium, only through its pages and forms: an admin sets up a
// user, a group and a catalog SAML app and the user reaches the app from the portal; a
// certificate is issued (PKCS#12 download) and revoked after a re-auth; a helpdesk user
// meets 403s; every console page is checked (axe-core, overflow) in Japanese and English
// at phone and desktop widths; last, the dashboard's numbers are read for the Python side,
// which also gets the SP's page (cfg.result).  Prints TAP lines.
// usage: node console.mjs CONFIG.json
import { readFileSync, writeFileSync } from 'node:fs';
import { done, launch, ok } from './tap.mjs';
import { axeClean, fits, screenshot, selfTest } from './pagecheck.mjs';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const result = {};
const admin = (path = '') => `${cfg.base}/admin${path ? '/' + path : ''}`;
const LANGS = {
  ja: { locale: 'ja-JP', console: '管理コンソール' },
  en: { locale: 'en-US', console: 'Admin console' },
};
const SIZES = {
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 800 } },
};

async function context(browser, lang, size) {
  const ctx = await browser.newContext({
    ...SIZES[size], locale: LANGS[lang].locale, extraHTTPHeaders: { 'Accept-Language': lang },
  });
  const page = await ctx.newPage();
  page.csp = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) page.csp.push(m.text()); });
  return { ctx, page };
}

async function signIn(page, url, user, password) {
  await page.goto(url);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form:has(#password) button[type=submit]')]);
}

// Fill the fields of form (selector: value) and submit it; the page it leads to.
async function submit(page, form, fields) {
  for (const [sel, value] of Object.entries(fields)) {
    if (await page.locator(`${form} select${sel}`).count())
      await page.selectOption(`${form} ${sel}`, value);
    else
      await page.fill(`${form} ${sel}`, value);
  }
  const [resp] = await Promise.all([page.waitForNavigation(), page.click(`${form} button[type=submit]`)]);
  return resp;
}

// ---- 1. users, group, catalog app, assignment; the user reaches the app ----

async function setUp(page) {
  await signIn(page, admin(), cfg.admin, cfg.password);
  ok(page.url() === admin(), 'the admin signs in and lands on the console', page.url());
  await page.goto(admin('users'));
  await submit(page, '#user-add-form', { '#new-name': cfg.new_user, '#new-display': '山田 花子',
    '#new-email': cfg.new_email, '#new-password': cfg.new_password });
  ok(await page.locator('p.notice').count() === 1 && (await page.textContent('h1')).includes(cfg.new_user),
    'the admin creates a user with a password through the users form', page.url());
  await page.goto(admin('groups'));
  await submit(page, '#group-add-form', { '#group-name': cfg.group });
  await page.goto(`${admin('group')}?name=${cfg.group}`);
  await submit(page, '#member-add-form', { '#member-user': cfg.new_user });
  ok(await page.locator(`tr[data-member="${cfg.new_user}"]`).count() === 1,
    'creates a group and puts the user in it');
  await page.goto(admin('catalog'));
  await Promise.all([page.waitForNavigation(), page.click('tr[data-template="generic-saml"] a')]);
  await submit(page, '#template-form', { '#app-name': cfg.app, '#p_entity_id': cfg.entity_id,
    '#p_acs_url': cfg.acs_url, '#p_nameid': 'persistent' });
  const md = (await page.locator('dd[data-paste="metadata_url"]').textContent() || '').trim();
  ok(md.endsWith('/saml/metadata') && md.startsWith('https://'),
    'the catalog app is added and its paste page shows the IdP metadata URL', md);
  await submit(page, '#app-assign-form', { '#assign-kind': 'group', '#assign-who': cfg.group });
  ok(await page.locator(`tr[data-assigned="group:${cfg.group}"]`).count() === 1,
    'the app is assigned to the group');
}

async function userReachesApp(browser) {
  const { ctx, page } = await context(browser, 'en', 'desktop');
  try {
    await signIn(page, `${cfg.base}/portal`, cfg.new_user, 'not-the-password');
    ok(await page.locator('#password').count() === 1, 'a wrong password: the login form again');
    await signIn(page, `${cfg.base}/portal`, 'nobody-here', 'not-the-password');
    await page.fill('#username', cfg.new_user);
    await page.fill('#password', cfg.new_password);
    await Promise.all([page.waitForNavigation(), page.click('form:has(#password) button[type=submit]')]);
    const tiles = page.locator('ul.apps.tiles li.tile a');
    ok(await tiles.count() === 1 && (await tiles.getAttribute('href')).includes(cfg.app),
      'the new user signs in and the app is a tile on the portal', await page.content());
    await Promise.all([page.waitForURL((u) => u.href.startsWith(cfg.sp_url), { timeout: 20000 }),
      tiles.first().click()]);
    result.sp_url = page.url();
    await page.goto(cfg.sp_protected);
    result.sp_env = await page.textContent('body');
    ok(page.url() === cfg.sp_protected, 'and with the IdP-initiated login the SP lets the user in',
      page.url());
  } finally {
    await ctx.close();
  }
}

// ---- 2. certificate: issue with download, revoke after the re-auth, audit ----

async function issue(page) {
  await page.goto(admin('certs'));
  await page.fill('#ci-user', cfg.new_user);
  await page.fill('#ci-label', 'laptop');
  await page.fill('#ci-password', cfg.p12_password);
  const [download] = await Promise.all([page.waitForEvent('download'),
    page.click('#cert-issue-form button[type=submit]')]);
  await download.saveAs(cfg.p12);
  ok(download.suggestedFilename().endsWith('.p12'), 'issuing a certificate downloads a .p12 file',
    download.suggestedFilename());
}

const revokeButton = 'form[action$="/cert/revoke"] button';

async function reauthPage(page, lang) {
  await page.context().addCookies([{ name: 'sekisho_lang', value: lang, url: cfg.base }]);
  await page.goto(`${admin('certs')}?user=${cfg.new_user}`);
  const [resp] = await Promise.all([page.waitForNavigation(), page.click(revokeButton)]);
  ok(resp.status() === 403 && await page.locator('#reauth-form').count() === 1 &&
    (await page.getAttribute('html', 'lang')) === lang,
    `${lang}: revoking with a proof older than 5 minutes asks for the password`, resp.status());
  await axeClean(page, `${lang} re-auth page`);
  await fits(page, `${lang} desktop re-auth page`);
  await page.setViewportSize(SIZES.phone.viewport);
  await fits(page, `${lang} phone re-auth page`);
  await page.setViewportSize(SIZES.desktop.viewport);
}

async function revoke(page) {
  writeFileSync(cfg.clock, '+400\n');	// the server's clock: the sign-in 6+ minutes ago
  await reauthPage(page, 'ja');
  await reauthPage(page, 'en');
  // The re-auth page carries the revoke form: the password completes it in one round trip.
  await submit(page, '#reauth-form', { '#reauth-password': cfg.password });
  ok(page.url().includes('/admin/certs') && await page.locator('[role=status]').count() >= 1,
    'after the password, the revoke is done and the certificates page says so', page.url());
  await page.goto(`${admin('certs')}?user=${cfg.new_user}`);
  const status = await page.locator('tr[data-serial]').getAttribute('data-status');
  ok(status === 'revoked', 'the certificate is revoked', status);
  await page.goto(`${admin('audit')}?event=cert.*`);
  const rows = await page.$$eval('table.audit tbody tr', (trs) => trs.map((tr) =>
    [tr.querySelector('td.event').textContent, tr.textContent]));
  for (const ev of ['cert.issue', 'cert.revoke'])
    ok(rows.some(([e, text]) => e === ev && text.includes(`console:${cfg.admin}`)),
      `the audit page shows ${ev} naming the admin`, JSON.stringify(rows));
}

// ---- 3. helpdesk: no app or rule pages, and a forged POST is refused ----

// Runs in the page: a form the console never shows, posted (the CSP allows no fetch).
function forge([action, fields]) {
  const f = document.createElement('form');
  f.method = 'post';
  f.action = action;
  for (const [name, value] of Object.entries(fields)) {
    const i = document.createElement('input');
    i.type = 'hidden';
    i.name = name;
    i.value = value;
    f.append(i);
  }
  document.body.append(f);
  f.submit();
}

async function helpdesk(browser) {
  const { ctx, page } = await context(browser, 'en', 'desktop');
  try {
    await signIn(page, admin(), cfg.helpdesk, cfg.password);
    const nav = await page.$$eval('nav.console a', (as) => as.map((a) => a.getAttribute('href')));
    ok(nav.length > 0 && !nav.some((h) => /\/admin\/(apps|rules)$/.test(h)),
      'helpdesk: the console nav has no apps or rules links', nav.join(' '));
    for (const p of ['apps', 'rules', `app?name=${cfg.app}`, `rule?name=${cfg.rule}`]) {
      const resp = await page.goto(admin(p));
      ok(resp.status() === 403, `helpdesk: GET ${p} is 403`, resp.status());
    }
    await page.goto(`${admin('user')}?name=${cfg.new_user}`);
    const csrf = await page.getAttribute('#user-reset-form input[name=csrf]', 'value');
    const forged = [];
    for (const [path, fields] of [['app/delete', { name: cfg.app }],
      ['rules/add', { name: 'forged', effect: 'deny', users: cfg.admin }],
      ['app/assign', { name: cfg.app, kind: 'user', who: cfg.helpdesk }]]) {
      await page.goto(`${admin('user')}?name=${cfg.new_user}`);
      const [resp] = await Promise.all([page.waitForNavigation(), page.evaluate(forge,
        [admin(path), { csrf, ...fields }])]);
      forged.push(resp.status());
    }
    ok(csrf && forged.every((s) => s === 403),
      'helpdesk: forged POSTs with a valid CSRF token to app and rule actions are 403', forged);
  } finally {
    await ctx.close();
  }
}

// ---- 5. every console page, in both languages, at both widths ----

const PAGES = [
  ['dashboard', ''], ['users', 'users'], ['user', `user?name=${cfg.new_user}`],
  ['groups', 'groups'], ['group', `group?name=${cfg.group}`], ['apps', 'apps'],
  ['app', `app?name=${cfg.app}`], ['catalog', 'catalog'],
  ['template', 'catalog/template?template=generic-saml'], ['rules', 'rules'],
  ['rule', `rule?name=${cfg.rule}`], ['simulator', `rules/test?user=${cfg.new_user}&ip=192.0.2.10`],
  ['certs', `certs?user=${cfg.new_user}`], ['keys', 'keys'], ['audit', 'audit'],
  ['settings', 'settings'],
];
const SHOTS = ['dashboard', 'users'];

// Runs in the page: pairs of texts of a chart drawn over each other (axis labels too close).
function chartClashes() {
  const out = [];
  for (const svg of document.querySelectorAll('figure.chart svg')) {
    const boxes = [...svg.querySelectorAll('text')].map((e) => [e.textContent, e.getBoundingClientRect()]);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, r] = boxes[i];
        const [b, q] = boxes[j];
        if (r.left < q.right - 0.5 && q.left < r.right - 0.5 && r.top < q.bottom - 0.5 && q.top < r.bottom - 0.5)
          out.push(`${svg.id || 'chart'}: "${a}" and "${b}" overlap`);
      }
  }
  return out;
}

async function tour(browser, lang, size) {
  const { ctx, page } = await context(browser, lang, size);
  try {
    await signIn(page, admin(), cfg.admin, cfg.password);
    for (const [what, path] of PAGES) {
      const resp = await page.goto(admin(path));
      const name = `${lang} ${size} ${what}`;
      ok(resp.status() === 200 && (await page.getAttribute('html', 'lang')) === lang,
        `${name}: 200, in its language`, resp.status());
      const current = await page.$$eval('nav.console a[aria-current="page"]', (as) => as.length);
      ok(current === 1, `${name}: the nav marks the current page`, current);
      if (size === 'desktop')
        await axeClean(page, name);
      await fits(page, name);
      if (what === 'dashboard') {
        const clash = await page.evaluate(chartClashes);
        ok(clash.length === 0, `${name}: no two labels of a chart overlap`, clash.join('\n'));
      }
      if (SHOTS.includes(what))
        await screenshot(page, cfg, `${lang}-${size}-${what}`);
    }
    ok(page.csp.length === 0, `${lang} ${size}: no Content Security Policy violation`, page.csp.join('\n'));
  } finally {
    await ctx.close();
  }
}

// ---- 4. the dashboard's numbers, read last (after every sign-in the test makes) ----

async function dashboard(page) {
  await page.goto(admin());
  result.dash = await page.evaluate(() => {
    const cells = (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim());
    const days = [...document.querySelectorAll('#dash-days-table tbody tr')].map(cells);
    const today = days[days.length - 1];
    const dd = [...document.querySelectorAll('dl.dash-numbers dd')].map((d) => Number(d.textContent));
    const reasons = [...document.querySelectorAll('#dash-reasons-table tbody tr')].map(cells)
      .map(([e, r, n]) => [e, r, Number(n)]);
    return { day: today[0], today_logins: Number(today[1]), today_refusals: Number(today[2]),
      active_users: dd[0], reasons };
  });
  ok(result.dash.day, 'the dashboard shows today\'s row', JSON.stringify(result.dash));
}

const browser = await launch(cfg);
try {
  const probe = await browser.newContext();
  await selfTest(await probe.newPage());
  await probe.close();
  const { ctx, page } = await context(browser, 'en', 'desktop');
  await setUp(page);
  await userReachesApp(browser);
  await issue(page);
  await revoke(page);
  await helpdesk(browser);
  for (const lang of Object.keys(LANGS))
    for (const size of Object.keys(SIZES))
      await tour(browser, lang, size);
  await dashboard(page);
  ok(page.csp.length === 0, 'admin: no Content Security Policy violation', page.csp.join('\n'));
  await ctx.close();
} catch (e) {
  ok(false, 'browser scenario ran to the end', e.stack);
} finally {
  writeFileSync(cfg.result, JSON.stringify(result));
  await browser.close();
}
done();
