// Local development: the page calls /api/<route>; `cargo lambda watch` serves each
// function at /lambda-url/<function><route>. This is the one table between them.

/** Which function serves a route (SPEC section 2). */
export const ROUTE_FUNCTIONS: ReadonlyArray<{ route: RegExp; fn: string }> = [
  { route: /^\/login$/, fn: 'login' },
  { route: /^\/logout$/, fn: 'login' },
  { route: /^\/password-reset$/, fn: 'recover-password' },
  { route: /^\/password-reset\/confirm$/, fn: 'recover-password' },
  { route: /^\/subscriptions$/, fn: 'list-subscriptions' },
  { route: /^\/subscriptions\/[^/]+\/upgrade$/, fn: 'upgrade-serial' },
  { route: /^\/serials\/[^/]+\/validate$/, fn: 'validate-serial' },
];

export const API_PREFIX = '/api';

/**
 * "/api/subscriptions?plan=license" → "/lambda-url/list-subscriptions/subscriptions?plan=license".
 * A path no function serves is left under "/lambda-url/unknown-route" so it fails loudly.
 */
export function toLambdaUrlPath(path: string): string {
  const q = path.search(/[?#]/);
  const pathname = q === -1 ? path : path.slice(0, q);
  const query = q === -1 ? '' : path.slice(q);
  const route = pathname.startsWith(API_PREFIX) ? pathname.slice(API_PREFIX.length) || '/' : pathname;
  const hit = ROUTE_FUNCTIONS.find((r) => r.route.test(route));
  return `/lambda-url/${hit ? hit.fn : 'unknown-route'}${route}${query}`;
}
