// What the browser scenarios share: TAP lines and Debian's Chromium launched to trust
// exactly the test server's key (cfg.chromium, cfg.spki from the Python side).
import { chromium } from 'playwright-core';

let n = 0;
let failed = 0;

export function ok(cond, name, detail) {
  n++;
  if (cond) console.log(`ok ${n} - ${name}`);
  else {
    failed++;
    console.log(`not ok ${n} - ${name}`);
    if (detail) for (const l of String(detail).split('\n').slice(0, 20)) console.log(`#   ${l}`);
  }
  return cond;
}

// The plan line and the exit status.
export function done() {
  console.log(`1..${n}`);
  process.exit(failed ? 1 : 0);
}

export function launch(cfg) {
  return chromium.launch({
    executablePath: cfg.chromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // trust exactly the test server's key, not every certificate
      `--ignore-certificate-errors-spki-list=${cfg.spki}`],
  });
}
