// Browser and mailbox helpers of the browser tests.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import {
  CHROMIUM_PATH,
  DEMO_EMAIL,
  DEMO_PASSWORD,
  MOTO_URL,
  RESULTS_DIR,
  SCREENSHOTS_DIR,
  TIMEOUT_MS,
  UPDATE_SCREENSHOTS,
  WEB_URL,
} from './env.mjs';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Debian's Chromium, headless, on a fresh temporary profile. */
export async function launchBrowser() {
  const userDataDir = await mkdtemp(join(tmpdir(), 'portal-e2e-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
    locale: 'es-MX',
    timezoneId: 'America/Mexico_City',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: WEB_URL });
  context.setDefaultTimeout(TIMEOUT_MS);
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A new tab (its own sessionStorage), with console errors collected. */
export async function newPage(context) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return page;
}

/**
 * A picture under test-results/. The README's pictures (`committed`) also go to
 * screenshots/ when missing there or when E2E_UPDATE_SCREENSHOTS=1, so that an ordinary
 * run leaves the tracked files alone.
 */
export async function screenshot(page, name, { committed = false, fullPage = false, element = null } = {}) {
  await mkdir(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.png`);
  // `element`: a locator, pictured alone.
  if (element) await element.screenshot({ path });
  else await page.screenshot({ path, fullPage });
  if (committed) {
    const target = join(SCREENSHOTS_DIR, `${name}.png`);
    if (UPDATE_SCREENSHOTS || !existsSync(target)) {
      await mkdir(SCREENSHOTS_DIR, { recursive: true });
      await copyFile(path, target);
    }
  }
  return path;
}

export async function gotoLogin(page) {
  await page.goto(`${WEB_URL}/`);
  await page.getByRole('heading', { level: 1, name: 'Iniciar sesión' }).waitFor();
}

export async function submitLogin(page, email, password) {
  await page.getByLabel('Correo electrónico').fill(email);
  await page.getByLabel('Contraseña', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Iniciar sesión' }).click();
}

/** Logs in and waits for "Mis servicios" with its table. */
export async function login(page, email = DEMO_EMAIL, password = DEMO_PASSWORD) {
  await gotoLogin(page);
  await submitLogin(page, email, password);
  await waitForServices(page);
}

export async function waitForServices(page) {
  await page.getByRole('heading', { level: 1, name: 'Mis servicios' }).waitFor();
  await page.locator('table.services').waitFor();
}

/** Cell texts of the table's item rows, keyed by header, and `actions`: their buttons' texts. */
export async function tableRows(page) {
  await page.locator('.table-wrap:not([aria-busy])').waitFor();
  return page.locator('table.services').evaluate((table) => {
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
    return [...table.querySelectorAll('tbody tr[data-serial]')].map((tr) => {
      const row = { serial: tr.dataset.serial };
      [...tr.cells].forEach((cell, i) => {
        row[heads[i]] = cell.textContent.trim();
      });
      // The row's buttons, one text each (the Acción cell may hold more than one).
      row.actions = [...tr.querySelectorAll('td.action button')].map((b) => b.textContent.trim());
      return row;
    });
  });
}

/** A short description of the focused element, for the keyboard tests. */
export function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: 'body', inDialog: false };
    return {
      tag: el.tagName.toLowerCase(),
      role: el.getAttribute('role'),
      type: el.getAttribute('type'),
      text: (el.textContent || '').trim().slice(0, 80),
      label: el.getAttribute('aria-label'),
      serial: el.dataset?.serial ?? null,
      disabled: el.disabled === true,
      inDialog: Boolean(el.closest('dialog[open]')),
    };
  });
}

/** Presses Tab (or Shift+Tab) until `match(focused)` holds; at most `max` times. */
export async function tabUntil(page, match, { max = 40, shift = false } = {}) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press(shift ? 'Shift+Tab' : 'Tab');
    const f = await focused(page);
    if (match(f)) return f;
  }
  throw new Error(`focus never reached the expected element after ${max} presses of Tab`);
}

// --- the mailbox (moto) ---

/** Every mail moto has "sent", oldest first. */
export async function sentMail() {
  const res = await fetch(`${MOTO_URL}/moto-api/data.json`);
  if (!res.ok) throw new Error(`moto answered ${res.status}`);
  const data = await res.json();
  const raw = data?.ses?.Message ?? [];
  const list = Array.isArray(raw) ? raw : Object.values(raw);
  return list.map((m) => ({
    to: [m?.destinations?.ToAddresses ?? m?.destination?.ToAddresses ?? []].flat().map(String),
    subject: String(m?.subject ?? ''),
    body: String(m?.body ?? ''),
  }));
}

/** Waits for a mail after the first `after` ones that satisfies `match`. */
export async function waitForMail(match, { after = 0, timeoutMs = Math.max(TIMEOUT_MS, 60_000) } = {}) {
  const deadline = Date.now() + timeoutMs;
  let seen = [];
  for (;;) {
    seen = (await sentMail()).slice(after);
    const hit = seen.filter(match).at(-1);
    if (hit) return hit;
    if (Date.now() > deadline) {
      const summary = seen.map((m) => `${m.to.join(',')}: ${m.subject}`).join(' | ') || 'none';
      throw new Error(`no matching mail within ${timeoutMs} ms (new mails: ${summary})`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function mailTo(address) {
  const a = address.toLowerCase();
  return (m) => m.to.some((t) => t.toLowerCase().includes(a));
}

/** The link of a mail to the page's `path` (with its `?token=`), moved onto WEB_URL when
 *  the mail names another origin. */
export function linkFrom(body, path) {
  const text = body.replace(/&amp;/g, '&').replace(/&#x2F;|&#47;/g, '/');
  const escaped = path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const m = new RegExp(`https?://[^\\s"'<>]+${escaped}\\?token=[^\\s"'<>&]+`).exec(text);
  if (!m) return null;
  const link = new URL(m[0]);
  return new URL(`${link.pathname}${link.search}`, `${WEB_URL}/`).toString();
}

/** The reset link of a mail. */
export function resetLinkFrom(body) {
  return linkFrom(body, '/password-reset');
}

/** How many elements inside `selector` take focus with Tab. */
export function tabbableCount(page, selector) {
  return page.locator(selector).evaluate((root) => {
    const sel =
      'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
    return [...root.querySelectorAll(sel)].filter((el) => el.getClientRects().length > 0).length;
  });
}

/**
 * `portal-admin payment record`, run as an operator runs it, with the settings of the
 * stack under test (PORTAL_ENV_FILE: `make test` passes its copy of scripts/local.env;
 * by hand, scripts/local.env itself, i.e. `make dev`). Resolves to its stdout.
 */
export async function recordPayment(serial, paidThrough, paymentId) {
  const { execFile } = await import('node:child_process');
  const { readFile: read } = await import('node:fs/promises');
  const { dirname: dir, resolve: res } = await import('node:path');
  const { fileURLToPath: toPath } = await import('node:url');
  const root = res(dir(toPath(import.meta.url)), '../..');
  const envFile = process.env.PORTAL_ENV_FILE || `${root}/scripts/local.env`;
  const settings = {};
  for (const line of (await read(envFile, 'utf8')).split('\n')) {
    const m = line.match(/^([A-Z0-9_]+)=(.*)$/);
    if (m) settings[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  const args = ['run', '-q', '-p', 'portal-admin', '--', 'payment', 'record', '--serial', serial];
  args.push('--paid-through', paidThrough, '--payment-id', paymentId);
  return new Promise((ok, fail) => {
    execFile('cargo', args, { cwd: root, env: { ...process.env, ...settings } }, (error, stdout, stderr) =>
      error ? fail(new Error(`portal-admin payment record: ${stderr || error.message}`)) : ok(stdout),
    );
  });
}
