import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, asGroups, createApi, isMfaChallenge, parseRetryAfter, type Subscription } from '../src/api.ts';

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function fakeFetch(respond: (seen: Seen) => Response | Promise<Response>) {
  const calls: Seen[] = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const seen: Seen = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body as string | undefined,
    };
    calls.push(seen);
    return respond(seen);
  }) as typeof fetch;
  return { calls, fetchImpl };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });

const problem = (status: number, code: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: 'about:blank', title: 't', status, detail: 'd', code }), {
    status,
    headers: { 'Content-Type': 'application/problem+json', ...headers },
  });

test('login posts JSON to <base>/login', async () => {
  const { calls, fetchImpl } = fakeFetch(() =>
    json(200, {
      token: 't0k',
      token_type: 'Bearer',
      expires_at: '2026-01-01T12:00:00Z',
      device_token: 'dev-1',
      account: { email: 'ana@example.com', name: 'Ana Ruiz', company: 'Comercial Ruiz SA de CV' },
    }),
  );
  const api = createApi({ baseUrl: 'https://api.example.com/', fetch: fetchImpl });
  const res = await api.login({ email: 'ana@example.com', password: 'pw' });
  assert.ok(!isMfaChallenge(res));
  assert.equal(res.token, 't0k');
  assert.equal(calls[0]!.url, 'https://api.example.com/login');
  assert.equal(calls[0]!.method, 'POST');
  assert.equal(calls[0]!.headers['Content-Type'], 'application/json');
  assert.deepEqual(JSON.parse(calls[0]!.body!), { email: 'ana@example.com', password: 'pw' });
  assert.equal(calls[0]!.headers.Authorization, undefined);
});

test('login sends the device token when it has one', async () => {
  const { calls, fetchImpl } = fakeFetch(() =>
    json(200, {
      token: 't0k',
      token_type: 'Bearer',
      expires_at: '2026-01-01T12:00:00Z',
      device_token: 'dev-2',
      account: { email: 'ana@example.com', name: 'Ana Ruiz', company: 'Comercial Ruiz SA de CV' },
    }),
  );
  const api = createApi({ baseUrl: '/api', fetch: fetchImpl });
  const res = await api.login({ email: 'ana@example.com', password: 'pw', device_token: 'dev-1' });
  assert.ok(!isMfaChallenge(res));
  assert.equal(res.device_token, 'dev-2');
  assert.deepEqual(JSON.parse(calls[0]!.body!), {
    email: 'ana@example.com',
    password: 'pw',
    device_token: 'dev-1',
  });
});

test('routes, bearer and query string', async () => {
  const { calls, fetchImpl } = fakeFetch((seen) => {
    if (seen.url.includes('/upgrade')) return json(201, { subscription: {}, previous: {} });
    if (seen.url.includes('/subscriptions')) return json(200, { subscriptions: [] });
    if (seen.url.endsWith('/password-reset')) return json(202, { status: 'accepted' });
    return new Response(null, { status: 204 });
  });
  const api = createApi({ baseUrl: '/api', fetch: fetchImpl });
  await api.logout('tok');
  await api.requestPasswordReset({ email: 'a@b.c' });
  await api.confirmPasswordReset({ token: 'r', new_password: 'x'.repeat(12) });
  await api.listSubscriptions('tok', { plan: 'license', group_by: 'billing_period' });
  await api.listSubscriptions('tok');
  await api.upgradeSerial('tok', 'AB CD', { accept_terms: true, terms_version: '2022-10' });
  assert.deepEqual(
    calls.map((c) => `${c.method} ${c.url}`),
    [
      'POST /api/logout',
      'POST /api/password-reset',
      'POST /api/password-reset/confirm',
      'GET /api/subscriptions?plan=license&group_by=billing_period',
      'GET /api/subscriptions',
      'POST /api/subscriptions/AB%20CD/upgrade',
    ],
  );
  assert.equal(calls[0]!.headers.Authorization, 'Bearer tok');
  assert.equal(calls[3]!.headers.Authorization, 'Bearer tok');
  assert.deepEqual(JSON.parse(calls[5]!.body!), { accept_terms: true, terms_version: '2022-10' });
});

test('a license file is asked for with the bearer and the installation code', async () => {
  const file = { file_name: 'SKSNWR4TQD.lic', license: 'aaa.bbb.ccc', expires_on: '2026-12-10' };
  const { calls, fetchImpl } = fakeFetch(() => json(201, file));
  const api = createApi({ baseUrl: '/api', fetch: fetchImpl });
  const res = await api.issueLicenseFile('tok', 'SKSN WR4TQD', { installation: 'INST-7F3A-22C9' });
  assert.deepEqual(res, file);
  assert.equal(calls[0]!.method, 'POST');
  assert.equal(calls[0]!.url, '/api/subscriptions/SKSN%20WR4TQD/license-file');
  assert.equal(calls[0]!.headers.Authorization, 'Bearer tok');
  assert.equal(calls[0]!.headers['Content-Type'], 'application/json');
  assert.deepEqual(JSON.parse(calls[0]!.body!), { installation: 'INST-7F3A-22C9' });

  const refused = createApi({ baseUrl: '/api', fetch: fakeFetch(() => problem(409, 'subscription_expired')).fetchImpl });
  await assert.rejects(
    refused.issueLicenseFile('tok', 'SKSNWR4TQD', { installation: 'X' }),
    (e: unknown) => e instanceof ApiError && e.status === 409 && e.code === 'subscription_expired',
  );
});

test('a problem+json answer becomes an ApiError with its code and Retry-After', async () => {
  const { fetchImpl } = fakeFetch(() => problem(429, 'account_locked', { 'Retry-After': '900' }));
  const api = createApi({ baseUrl: '/api', fetch: fetchImpl });
  await assert.rejects(api.login({ email: 'a@b.c', password: 'x' }), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 429);
    assert.equal(e.code, 'account_locked');
    assert.equal(e.retryAfter, 900);
    return true;
  });
});

test('no network, or a body that is not a problem, still gives a code', async () => {
  const down = createApi({
    baseUrl: '/api',
    fetch: (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch,
  });
  await assert.rejects(down.logout('t'), (e: unknown) => e instanceof ApiError && e.code === 'network' && e.status === 0);

  const html = createApi({
    baseUrl: '/api',
    fetch: (async () => new Response('<h1>Bad Gateway</h1>', { status: 502 })) as typeof fetch,
  });
  await assert.rejects(html.logout('t'), (e: unknown) => e instanceof ApiError && e.code === 'unexpected_response' && e.status === 502);
});

test('Retry-After in seconds or as a date', () => {
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter('120'), 120);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:15:00 GMT', now), 900);
  assert.equal(parseRetryAfter('pronto'), null);
});

test('asGroups gives both list shapes one form', () => {
  const subscription = { serial: 'A' } as Subscription;
  assert.deepEqual(asGroups({ subscriptions: [subscription] }), [{ key: null, subscriptions: [subscription] }]);
  assert.deepEqual(asGroups({ groups: [{ key: 'SAE', subscriptions: [subscription] }] }), [
    { key: 'SAE', subscriptions: [subscription] },
  ]);
});

const LOGIN = {
  token: 't0k',
  token_type: 'Bearer',
  expires_at: '2026-01-01T12:00:00Z',
  device_token: 'dev-3',
  account: { email: 'ana@example.com', name: 'Ana Ruiz', company: 'Comercial Ruiz SA de CV' },
};

test('a login with two-step verification on: the challenge, then POST /login/mfa', async () => {
  const { calls, fetchImpl } = fakeFetch((seen) =>
    seen.url.endsWith('/login/mfa')
      ? json(200, LOGIN)
      : json(200, { mfa_required: true, mfa_token: 'mfa-1', expires_at: '2026-01-01T00:05:00Z' }),
  );
  const api = createApi({ baseUrl: '/api', fetch: fetchImpl });
  const first = await api.login({ email: 'ana@example.com', password: 'pw' });
  assert.ok(isMfaChallenge(first));
  assert.equal(first.mfa_token, 'mfa-1');
  const res = await api.loginMfa({ mfa_token: first.mfa_token, code: '123456' });
  assert.equal(res.token, 't0k');
  assert.equal(calls[1]!.url, '/api/login/mfa');
  assert.equal(calls[1]!.method, 'POST');
  assert.deepEqual(JSON.parse(calls[1]!.body!), { mfa_token: 'mfa-1', code: '123456' });
  assert.equal(calls[1]!.headers.Authorization, undefined);
  assert.ok(!isMfaChallenge(LOGIN as never), 'an ordinary login is no challenge');
});

test('the account routes: methods, paths, bearer and bodies', async () => {
  const { calls, fetchImpl } = fakeFetch((seen) => {
    if (seen.url.endsWith('/sessions') && seen.method === 'GET') return json(200, { sessions: [] });
    if (seen.url.endsWith('/mfa/totp') && seen.method === 'POST') {
      return json(200, { secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/x' });
    }
    if (seen.url.endsWith('/mfa/totp/confirm')) return json(200, { recovery_codes: ['AAAA-BBBB-CCCC'] });
    if (seen.url.endsWith('/email-change')) return json(202, { status: 'accepted' });
    return new Response(null, { status: 204 });
  });
  const api = createApi({ baseUrl: '/api', fetch: fetchImpl });
  await api.changePassword('t', { current_password: 'a', new_password: 'b' });
  assert.deepEqual((await api.listSessions('t')).sessions, []);
  await api.endSession('t', 'id/with?odd#chars');
  assert.equal((await api.startTotp('t')).secret, 'JBSWY3DPEHPK3PXP');
  assert.deepEqual((await api.confirmTotp('t', { code: '123456' })).recovery_codes, ['AAAA-BBBB-CCCC']);
  await api.disableTotp('t', { code: 'AAAA-BBBB-CCCC' });
  assert.equal((await api.requestEmailChange('t', { new_email: 'n@example.com', password: 'p' })).status, 'accepted');
  await api.confirmEmailChange('t', { token: 'mail-token' });
  assert.deepEqual(
    calls.map((c) => `${c.method} ${c.url} ${c.body ?? '-'}`),
    [
      'POST /api/password {"current_password":"a","new_password":"b"}',
      'GET /api/sessions -',
      'DELETE /api/sessions/id%2Fwith%3Fodd%23chars -',
      'POST /api/mfa/totp {}',
      'POST /api/mfa/totp/confirm {"code":"123456"}',
      'DELETE /api/mfa/totp {"code":"AAAA-BBBB-CCCC"}',
      'POST /api/email-change {"new_email":"n@example.com","password":"p"}',
      'POST /api/email-change/confirm {"token":"mail-token"}',
    ],
  );
  for (const c of calls) assert.equal(c.headers.Authorization, 'Bearer t');
  // A body goes with its Content-Type, and no Content-Type goes without a body.
  for (const c of calls) assert.equal(c.headers['Content-Type'] === 'application/json', c.body !== undefined);
});

test('an invalid code is an ApiError with its code', async () => {
  const { fetchImpl } = fakeFetch(() => problem(401, 'invalid_code'));
  const api = createApi({ baseUrl: '/api', fetch: fetchImpl });
  await assert.rejects(api.loginMfa({ mfa_token: 'm', code: '000000' }), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, 'invalid_code');
    assert.equal(e.status, 401);
    return true;
  });
});
