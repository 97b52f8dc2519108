// Settings of the browser tests, all from the environment.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const trim = (u) => u.replace(/\/+$/, '');

/** The page (Vite dev server or `vite preview`). */
export const WEB_URL = trim(process.env.WEB_URL || 'http://127.0.0.1:5173');
/** moto: the local mailbox. */
export const MOTO_URL = trim(process.env.MOTO_URL || 'http://127.0.0.1:5005');
/** The API as the page reaches it (through the server's proxy by default). */
export const API_URL = trim(process.env.E2E_API_URL || `${WEB_URL}/api`);
export const DEMO_EMAIL = process.env.DEMO_EMAIL || 'ana@example.com';
export const DEMO_PASSWORD = process.env.DEMO_PASSWORD || 'portal-demo-2026';
/** The seed's second customer (one SAE 7.0 subscription): the keyboard upgrade and the
 *  password recovery run on it, so the first account keeps its password and its SAE. */
export const SECOND_EMAIL = process.env.SECOND_EMAIL || 'luis@example.com';
export const SECOND_PASSWORD = process.env.SECOND_PASSWORD || DEMO_PASSWORD;
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** How long a page server that refuses connections is waited for (s). */
export const WEB_WAIT_SECONDS = Number(process.env.E2E_WEB_WAIT_SECONDS || 10);
/** Longest wait of one browser action or one poll of the mailbox (ms). */
export const TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS || 30_000);
/** Longest wait for each function to answer its first call (s): the first may compile it. */
export const API_WAIT_SECONDS = Number(process.env.E2E_API_WAIT_SECONDS || 600);
/** How long to keep retrying an API that refuses connections (s): the stack may be starting. */
export const API_START_SECONDS = Number(process.env.E2E_API_START_SECONDS || 60);

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_DIR = join(webDir, 'test-results');
export const SCREENSHOTS_DIR = join(webDir, 'screenshots');
/** Rewrite the README's pictures in screenshots/ (otherwise written only when missing). */
export const UPDATE_SCREENSHOTS = process.env.E2E_UPDATE_SCREENSHOTS === '1';
