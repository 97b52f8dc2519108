// Runs before the browser tests: is everything they need there? Fails with one clear
// line per missing piece, and warms each function up (its first call may build it).
import { access, constants } from 'node:fs/promises';
import {
  API_START_SECONDS,
  API_URL,
  API_WAIT_SECONDS,
  CHROMIUM_PATH,
  MOTO_URL,
  WEB_URL,
  WEB_WAIT_SECONDS,
} from './env.mjs';

const problems = [];

function reason(e) {
  const cause = e?.cause?.code || e?.cause?.message || e?.name || String(e);
  return cause === 'TimeoutError' ? 'no answer within the time limit' : cause;
}

async function get(url, timeoutMs = 5_000) {
  return fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
}

try {
  await access(CHROMIUM_PATH, constants.X_OK);
} catch {
  problems.push(`chromium not found at CHROMIUM_PATH=${CHROMIUM_PATH} (run: npm run chromium)`);
}

// The page server may have been started a moment ago: a refused connection is retried
// for WEB_WAIT_SECONDS, then reported.
for (const started = Date.now(); ; ) {
  try {
    const res = await get(`${WEB_URL}/`);
    const body = await res.text();
    if (!res.ok || !body.includes('id="app"')) {
      problems.push(`WEB_URL=${WEB_URL} answered ${res.status} but not with the portal page`);
    }
    break;
  } catch (e) {
    if (Date.now() - started < WEB_WAIT_SECONDS * 1000) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    problems.push(
      `WEB_URL=${WEB_URL} is not reachable (${reason(e)}); start the page first, e.g. (cd web && npm run dev)`,
    );
    break;
  }
}

try {
  const res = await get(`${MOTO_URL}/moto-api/data.json`);
  if (!res.ok) problems.push(`MOTO_URL=${MOTO_URL}: GET /moto-api/data.json answered ${res.status}`);
} catch (e) {
  problems.push(`MOTO_URL=${MOTO_URL} is not reachable (${reason(e)}); is moto running?`);
}

if (problems.length) {
  for (const p of problems) console.error(`e2e: ${p}`);
  process.exit(1);
}

// Each function answers a harmless call with a problem+json body once it is up. A
// call that gets no connection is retried for API_START_SECONDS (the stack may still
// be starting); a call that is accepted may take up to API_WAIT_SECONDS (the first
// call of a function under `cargo lambda watch` builds it).
const probes = [
  ['login', 'POST', '/login', {}],
  ['recover-password', 'POST', '/password-reset', {}],
  ['list-subscriptions', 'GET', '/subscriptions', undefined],
  ['upgrade-serial', 'POST', '/subscriptions/ZZZZZZZZZZ/upgrade', {}],
  ['license-file', 'POST', '/subscriptions/ZZZZZZZZZZ/license-file', {}],
];
for (const [fn, method, route, body] of probes) {
  const started = Date.now();
  const deadline = started + API_START_SECONDS * 1000;
  let last = '';
  for (;;) {
    try {
      const res = await fetch(`${API_URL}${route}`, {
        method,
        headers: body ? { 'Content-Type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(API_WAIT_SECONDS * 1000),
      });
      const text = await res.text();
      let code = null;
      try {
        code = JSON.parse(text).code ?? null;
      } catch {
        code = null;
      }
      if (res.status >= 400 && res.status < 500 && typeof code === 'string') {
        console.log(`e2e: ${fn} answers (${res.status} ${code}) after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        break;
      }
      last = `${res.status} ${text.slice(0, 120).replace(/\s+/g, ' ')}`.trim();
      if (res.status === 502 || res.status === 504) {
        last +=
          ' (the page server cannot reach the functions: is the local API gateway (scripts/gateway.py) running where PORTAL_API_URL points, and `cargo lambda watch` where its --invoke-url points?)';
      }
    } catch (e) {
      last = reason(e);
    }
    if (Date.now() > deadline) {
      console.error(`e2e: the API at ${API_URL} does not answer ${method} ${route} (${fn}): ${last}`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
}
