import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD_MISMATCH } from '../src/messages.ts';
import { charCount, checkNewPassword, looksLikeEmail } from '../src/validate.ts';

test('new password: 10 to 128 characters, both fields equal', () => {
  assert.equal(checkNewPassword('', '')?.field, 'password');
  assert.equal(checkNewPassword('123456789', '123456789')?.field, 'password');
  assert.equal(checkNewPassword('1234567890', '1234567890'), null);
  assert.equal(checkNewPassword('x'.repeat(128), 'x'.repeat(128)), null);
  assert.equal(checkNewPassword('x'.repeat(129), 'x'.repeat(129))?.field, 'password');
  assert.deepEqual(checkNewPassword('1234567890', '1234567899'), {
    field: 'confirm',
    message: PASSWORD_MISMATCH,
  });
  assert.equal(checkNewPassword('ana@example.com', 'ana@example.com', 'Ana@Example.com')?.field, 'password');
});

test('characters, not UTF-16 units, are counted', () => {
  assert.equal(charCount('ñandú'), 5);
  assert.equal(charCount('🔑🔑🔑🔑🔑'), 5);
  assert.equal(checkNewPassword('🔑'.repeat(9), '🔑'.repeat(9))?.field, 'password');
});

test('e-mail shape', () => {
  assert.ok(looksLikeEmail('ana@example.com'));
  assert.ok(looksLikeEmail('  ana@example.com '));
  assert.ok(!looksLikeEmail('ana'));
  assert.ok(!looksLikeEmail('ana @example.com'));
  assert.ok(!looksLikeEmail(''));
});
