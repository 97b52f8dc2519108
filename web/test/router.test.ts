import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routeOf, SIGNED_IN_ONLY } from '../src/router.ts';

test('paths to screens', () => {
  assert.equal(routeOf('/'), 'login');
  assert.equal(routeOf('/password-reset'), 'reset');
  assert.equal(routeOf('/password-reset/'), 'reset');
  assert.equal(routeOf('/mis-servicios'), 'services');
  assert.equal(routeOf('/recuperar-contrasena'), 'forgot');
  assert.equal(routeOf('/otra-cosa'), 'login');
});

test('the account screens and the e-mail change link', () => {
  assert.equal(routeOf('/mi-cuenta/seguridad'), 'security');
  assert.equal(routeOf('/mi-cuenta/seguridad/'), 'security');
  assert.equal(routeOf('/email-change'), 'emailChange');
  assert.ok(SIGNED_IN_ONLY.has('security') && SIGNED_IN_ONLY.has('services'));
  assert.ok(!SIGNED_IN_ONLY.has('emailChange'), 'the mailed link must open signed out too');
});
