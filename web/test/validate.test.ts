import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD_MISMATCH, PASSWORD_RULE } from '../src/messages.ts';
import {
  charCount,
  checkEmailChange,
  checkInstallation,
  checkNewPassword,
  checkPasswordChange,
  INSTALLATION_MAX,
  looksLikeEmail,
  PASSWORD_MAX,
  PASSWORD_MIN,
} from '../src/validate.ts';

test('new password: 12 to 128 characters, both fields equal', () => {
  assert.equal(PASSWORD_MIN, 12);
  assert.equal(PASSWORD_MAX, 128);
  assert.equal(checkNewPassword('', '')?.field, 'password');
  assert.equal(checkNewPassword('1234567890', '1234567890')?.field, 'password');
  const short = checkNewPassword('x'.repeat(11), 'x'.repeat(11));
  assert.equal(short?.field, 'password');
  assert.match(short!.message, /al menos 12 caracteres/);
  assert.equal(checkNewPassword('x'.repeat(12), 'x'.repeat(12)), null);
  assert.equal(checkNewPassword('x'.repeat(128), 'x'.repeat(128)), null);
  assert.equal(checkNewPassword('x'.repeat(129), 'x'.repeat(129))?.field, 'password');
  assert.deepEqual(checkNewPassword('123456789012', '123456789099'), {
    field: 'confirm',
    message: PASSWORD_MISMATCH,
  });
  assert.equal(checkNewPassword('ana@example.com', 'ana@example.com', 'Ana@Example.com')?.field, 'password');
});

test('characters, not UTF-16 units, are counted', () => {
  assert.equal(charCount('ñandú'), 5);
  assert.equal(charCount('🔑🔑🔑🔑🔑'), 5);
  assert.equal(checkNewPassword('🔑'.repeat(11), '🔑'.repeat(11))?.field, 'password');
  assert.equal(checkNewPassword('🔑'.repeat(12), '🔑'.repeat(12)), null);
});

test('the rule shown before typing says the same limits', () => {
  assert.ok(PASSWORD_RULE.includes(`entre ${PASSWORD_MIN} y ${PASSWORD_MAX} caracteres`), PASSWORD_RULE);
  assert.match(PASSWORD_RULE, /correo electrónico/);
  assert.match(PASSWORD_RULE, /común o fácil de adivinar/);
});

test('e-mail shape', () => {
  assert.ok(looksLikeEmail('ana@example.com'));
  assert.ok(looksLikeEmail('  ana@example.com '));
  assert.ok(!looksLikeEmail('ana'));
  assert.ok(!looksLikeEmail('ana @example.com'));
  assert.ok(!looksLikeEmail(''));
});

test('installation code: trimmed, 1 to 128 characters, no control characters', () => {
  assert.equal(INSTALLATION_MAX, 128);
  assert.deepEqual(checkInstallation('  INST-7F3A-22C9 \n'), { ok: true, code: 'INST-7F3A-22C9' });
  const empty = checkInstallation('   ');
  assert.equal(empty.ok, false);
  assert.match(!empty.ok ? empty.message : '', /^Escribe el código de instalación/);
  assert.deepEqual(checkInstallation(` ${'Ñ'.repeat(128)} `), { ok: true, code: 'Ñ'.repeat(128) });
  assert.deepEqual(checkInstallation('🔑'.repeat(128)), { ok: true, code: '🔑'.repeat(128) }, 'characters, not UTF-16 units');
  const long = checkInstallation('x'.repeat(129));
  assert.match(!long.ok ? long.message : '', /como máximo 128 caracteres/);
  for (const bad of ['INST\n7F3A', 'INST\t7F3A', 'INST\u00007F3A', 'INST\u007f7F3A', 'INST\u00857F3A']) {
    const r = checkInstallation(bad);
    assert.equal(r.ok, false, JSON.stringify(bad));
    assert.match(!r.ok ? r.message : '', /saltos de línea ni tabuladores/);
  }
});

test('a password change: the current one first, then the new pair, then a different one', () => {
  assert.equal(checkPasswordChange('', 'una-frase-bastante-larga', 'una-frase-bastante-larga')?.field, 'current');
  assert.equal(checkPasswordChange('vieja-contraseña', 'corta', 'corta')?.field, 'password');
  assert.equal(
    checkPasswordChange('vieja-contraseña', 'una-frase-bastante-larga', 'otra-frase-bastante-larga')?.field,
    'confirm',
  );
  const same = checkPasswordChange('una-frase-bastante-larga', 'una-frase-bastante-larga', 'una-frase-bastante-larga');
  assert.equal(same?.field, 'password');
  assert.match(same!.message, /distinta de la actual/);
  assert.equal(
    checkPasswordChange('x', 'ana@example.com.mx1', 'ana@example.com.mx1', 'ana@example.com.mx1')?.field,
    'password',
  );
  assert.equal(checkPasswordChange('vieja-contraseña', 'una-frase-bastante-larga', 'una-frase-bastante-larga'), null);
});

test('an e-mail change: a new address, not the current one, and the password', () => {
  assert.equal(checkEmailChange('no-es-correo', 'pw', 'ana@example.com')?.field, 'email');
  const same = checkEmailChange(' ANA@example.com ', 'pw', 'ana@example.com');
  assert.equal(same?.field, 'email');
  assert.match(same!.message, /ya es tu correo/);
  assert.equal(checkEmailChange('nueva@example.com', '', 'ana@example.com')?.field, 'current');
  assert.equal(checkEmailChange('nueva@example.com', 'pw', 'ana@example.com'), null);
});
