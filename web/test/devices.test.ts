import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEVICE_TOKEN_MAX,
  deviceTokenFor,
  MAX_DEVICES,
  normalizeEmail,
  rememberDevice,
  type DeviceStore,
} from '../src/devices.ts';

/** An in-memory localStorage. */
function fakeStore(initial: Record<string, string> = {}): DeviceStore & { data: Map<string, string> } {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => {
      data.set(k, String(v));
    },
  };
}

test('e-mails are normalised: trimmed, lower-cased', () => {
  assert.equal(normalizeEmail('  Ana@Example.COM '), 'ana@example.com');
});

test('one device token per normalised e-mail', () => {
  const store = fakeStore();
  assert.equal(deviceTokenFor('ana@example.com', store), undefined);
  rememberDevice(' Ana@Example.com ', 'dev-ana', store);
  rememberDevice('luis@example.com', 'dev-luis', store);
  assert.equal(deviceTokenFor('ana@example.com', store), 'dev-ana');
  assert.equal(deviceTokenFor('ANA@EXAMPLE.COM  ', store), 'dev-ana');
  assert.equal(deviceTokenFor('luis@example.com', store), 'dev-luis');
  assert.equal(deviceTokenFor('otra@example.com', store), undefined);

  // A later login replaces the token of that e-mail only.
  rememberDevice('ana@example.com', 'dev-ana-2', store);
  assert.equal(deviceTokenFor('ana@example.com', store), 'dev-ana-2');
  assert.equal(deviceTokenFor('luis@example.com', store), 'dev-luis');
  assert.equal(JSON.parse(store.data.get('portal.devices')!).length, 2);
});

test('tokens that could not be sent back are not kept', () => {
  const store = fakeStore();
  rememberDevice('ana@example.com', undefined, store);
  rememberDevice('ana@example.com', '', store);
  rememberDevice('ana@example.com', 42, store);
  rememberDevice('ana@example.com', 'x'.repeat(DEVICE_TOKEN_MAX + 1), store);
  assert.equal(deviceTokenFor('ana@example.com', store), undefined);
  rememberDevice('ana@example.com', 'x'.repeat(DEVICE_TOKEN_MAX), store);
  assert.equal(deviceTokenFor('ana@example.com', store), 'x'.repeat(DEVICE_TOKEN_MAX));
});

test('the oldest e-mails go first past the limit', () => {
  const store = fakeStore();
  for (let i = 0; i <= MAX_DEVICES; i += 1) rememberDevice(`u${i}@example.com`, `t${i}`, store);
  assert.equal(deviceTokenFor('u0@example.com', store), undefined);
  assert.equal(deviceTokenFor('u1@example.com', store), 't1');
  assert.equal(deviceTokenFor(`u${MAX_DEVICES}@example.com`, store), `t${MAX_DEVICES}`);
});

test('no storage, broken storage or garbage stored: no token, no exception', () => {
  assert.equal(deviceTokenFor('ana@example.com', null), undefined);
  rememberDevice('ana@example.com', 't', null);
  for (const garbage of ['{', '{"ana@example.com":"t"}', '[["ana@example.com",7]]', 'null']) {
    const store = fakeStore({ 'portal.devices': garbage });
    assert.equal(deviceTokenFor('ana@example.com', store), undefined, garbage);
    rememberDevice('ana@example.com', 't', store);
    assert.equal(deviceTokenFor('ana@example.com', store), 't', garbage);
  }
  const full: DeviceStore = {
    getItem: () => null,
    setItem: () => {
      throw new Error('QuotaExceededError');
    },
  };
  rememberDevice('ana@example.com', 't', full);
});
