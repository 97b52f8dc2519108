import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routeOf } from '../src/router.ts';

test('paths to screens', () => {
  assert.equal(routeOf('/'), 'login');
  assert.equal(routeOf('/password-reset'), 'reset');
  assert.equal(routeOf('/password-reset/'), 'reset');
  assert.equal(routeOf('/mis-servicios'), 'services');
  assert.equal(routeOf('/recuperar-contrasena'), 'forgot');
  assert.equal(routeOf('/otra-cosa'), 'login');
});
