import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROBLEM_CODES } from '../src/api.ts';
import { errorSentence, hasSentence, sentenceFor, SESSION_EXPIRED } from '../src/messages.ts';

const CONTEXTS = [
  'login',
  'forgot',
  'reset',
  'subscriptions',
  'upgrade',
  'license-file',
  'logout',
  'invitation',
  'mfa',
  'password-change',
  'sessions',
  'two-step',
  'email-change',
  'email-confirm',
] as const;

test('every problem code of the API has its own sentence', () => {
  for (const code of PROBLEM_CODES) assert.ok(hasSentence(code), `no sentence for ${code}`);
  assert.ok(hasSentence('network'));
  assert.ok(hasSentence('timeout'));
});

test('sentences are plain Spanish: no codes, JSON or placeholders', () => {
  for (const code of [...PROBLEM_CODES, 'network', 'timeout', 'something_new']) {
    for (const ctx of [...CONTEXTS, undefined]) {
      for (const retryAfter of [null, 900]) {
        const s = errorSentence({ code, status: 400, retryAfter }, ctx);
        assert.match(s, /^[A-ZÁÉÍÓÚÑ¡¿]/, `${code}: "${s}"`);
        assert.match(s, /[.!?»]$/, `${code}: "${s}"`);
        assert.doesNotMatch(s, /[{}[\]_]|undefined|null|NaN/, `${code}: "${s}"`);
        assert.ok(!s.includes(code) || code === 'network', `${code} leaks into "${s}"`);
      }
    }
  }
});

test('the login sentences', () => {
  assert.equal(
    errorSentence({ code: 'invalid_credentials', status: 401 }, 'login'),
    'El correo electrónico o la contraseña no son correctos.',
  );
  // The lock is of this device or network, not of the whole account.
  const locked = errorSentence({ code: 'account_locked', status: 429, retryAfter: 900 }, 'login');
  assert.match(
    locked,
    /^Demasiados intentos fallidos desde este dispositivo o esta red\. Podrás intentarlo de nuevo en 15 minutos\./,
  );
  assert.doesNotMatch(locked, /cuenta está bloqueada/);
  const lockedNoHeader = errorSentence({ code: 'account_locked', status: 429, retryAfter: null });
  assert.match(lockedNoHeader, /Podrás intentarlo de nuevo en unos minutos\./);
});

test('an expired session says so, idleness included', () => {
  assert.equal(errorSentence({ code: 'unauthorized', status: 401 }), SESSION_EXPIRED);
  assert.equal(SESSION_EXPIRED, 'Tu sesión expiró o se cerró por inactividad. Inicia sesión de nuevo.');
  assert.match(SESSION_EXPIRED, /inactividad/);
});

test('a body that is not JSON (415) has its sentence', () => {
  assert.ok(hasSentence('unsupported_media_type'));
  assert.equal(
    errorSentence({ code: 'unsupported_media_type', status: 415 }),
    'El servidor no pudo leer la solicitud. Recarga la página e intenta de nuevo.',
  );
});

test('a guessable new password is refused with a sentence', () => {
  const s = errorSentence({ code: 'weak_password', status: 422 }, 'reset');
  assert.match(s, /común o fácil de adivinar/);
  assert.doesNotMatch(s, /10/);
});

test('unavailable tells when to try again', () => {
  assert.match(
    errorSentence({ code: 'unavailable', status: 503, retryAfter: 30 }),
    /Intenta de nuevo en 30 segundos\.$/,
  );
  assert.match(
    errorSentence({ code: 'unavailable', status: 503, retryAfter: null }),
    /Intenta de nuevo en unos minutos\.$/,
  );
});

test('upgrade conflicts read as sentences', () => {
  for (const code of ['no_upgrade_available', 'purchase_required', 'subscription_expired', 'not_active']) {
    const s = errorSentence({ code, status: 409 }, 'upgrade');
    assert.ok(s.length > 20, s);
  }
  assert.equal(
    errorSentence({ code: 'not_found', status: 404 }, 'upgrade'),
    'No encontramos ese número de serie en tu cuenta.',
  );
});

test('unknown codes fall back on the status; anything thrown reads as a sentence', () => {
  assert.equal(
    errorSentence({ code: 'unexpected_response', status: 502 }),
    'Ocurrió un error en el servidor. Intenta de nuevo más tarde.',
  );
  assert.match(errorSentence({ code: 'unexpected_response', status: 418 }), /^Ocurrió un error inesperado/);
  assert.match(sentenceFor(new TypeError('x is undefined')), /^Ocurrió un error inesperado/);
  assert.match(sentenceFor({ code: 'network', status: 0 }), /^No pudimos conectarnos con el servidor/);
});

test('license file refusals speak of the file, not of an upgrade', () => {
  assert.equal(
    errorSentence({ code: 'subscription_expired', status: 409 }, 'license-file'),
    'Tu suscripción está vencida. Renuévala para poder generar su archivo de activación.',
  );
  assert.equal(
    errorSentence({ code: 'not_active', status: 409 }, 'license-file'),
    'Este número de serie ya está inactivo: no se puede generar su archivo de activación.',
  );
  assert.equal(
    errorSentence({ code: 'not_found', status: 404 }, 'license-file'),
    'No encontramos ese número de serie en tu cuenta.',
  );
  assert.match(errorSentence({ code: 'invalid_request', status: 400 }, 'license-file'), /código de instalación/);
  // The upgrade keeps its own sentences.
  assert.match(errorSentence({ code: 'subscription_expired', status: 409 }, 'upgrade'), /actualizar tu sistema/);
});

test('two-step verification and the account pages read in their own words', () => {
  assert.match(errorSentence({ code: 'invalid_code', status: 401 }, 'mfa'), /^El código no es correcto o ya se usó\./);
  assert.match(errorSentence({ code: 'invalid_token', status: 400 }, 'mfa'), /5 minutos.*Inicia sesión de nuevo\./);
  assert.equal(
    errorSentence({ code: 'invalid_credentials', status: 401 }, 'password-change'),
    'Tu contraseña actual no es correcta.',
  );
  assert.equal(
    errorSentence({ code: 'invalid_credentials', status: 401 }, 'email-change'),
    'Tu contraseña actual no es correcta.',
  );
  assert.match(errorSentence({ code: 'weak_password', status: 422 }, 'password-change'), /contraseña actual/);
  assert.match(errorSentence({ code: 'invalid_token', status: 400 }, 'email-confirm'), /nuevo correo/);
  assert.match(errorSentence({ code: 'email_taken', status: 409 }, 'email-confirm'), /está en uso/);
  assert.match(errorSentence({ code: 'not_found', status: 404 }, 'sessions'), /sesión ya estaba cerrada/);
  // Only the login points at "¿Olvidaste tu contraseña?" when locked.
  const locked = errorSentence({ code: 'account_locked', status: 429, retryAfter: 900 }, 'two-step');
  assert.match(locked, /15 minutos\.$/);
});

test('an invitation link that no longer works says so as an invitation', () => {
  const s = errorSentence({ code: 'invalid_token', status: 400 }, 'invitation');
  assert.match(s, /invitación/);
  assert.match(s, /7 días/);
  assert.doesNotMatch(errorSentence({ code: 'invalid_token', status: 400 }, 'reset'), /invitación/);
});
