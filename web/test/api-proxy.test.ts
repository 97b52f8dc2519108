import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toLambdaUrlPath } from '../api-proxy.ts';

test('each route goes to its function under /lambda-url, query kept', () => {
  const cases: Array<[string, string]> = [
    ['/api/login', '/lambda-url/login/login'],
    ['/api/logout', '/lambda-url/login/logout'],
    ['/api/password-reset', '/lambda-url/recover-password/password-reset'],
    ['/api/password-reset/confirm', '/lambda-url/recover-password/password-reset/confirm'],
    ['/api/subscriptions', '/lambda-url/list-subscriptions/subscriptions'],
    [
      '/api/subscriptions?plan=subscription&group_by=billing_period',
      '/lambda-url/list-subscriptions/subscriptions?plan=subscription&group_by=billing_period',
    ],
    ['/api/subscriptions/SKSNWR4TQ7/upgrade', '/lambda-url/upgrade-serial/subscriptions/SKSNWR4TQ7/upgrade'],
    ['/api/serials/SKSNWR4TQ7/validate', '/lambda-url/validate-serial/serials/SKSNWR4TQ7/validate'],
  ];
  for (const [from, to] of cases) assert.equal(toLambdaUrlPath(from), to, from);
});

test('a route no function serves is not sent to one', () => {
  assert.equal(toLambdaUrlPath('/api/admin'), '/lambda-url/unknown-route/admin');
  assert.equal(
    toLambdaUrlPath('/api/subscriptions/A/B/upgrade'),
    '/lambda-url/unknown-route/subscriptions/A/B/upgrade',
  );
});
