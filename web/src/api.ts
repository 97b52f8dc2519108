// The portal's HTTP API (SPEC section 2): request and response types, and one
// function per route. Nothing else in the page calls `fetch`.

export type Plan = 'subscription' | 'license';
export type BillingPeriod = 'monthly' | 'semiannual' | 'annual';
export type Status = 'active' | 'expired' | 'superseded' | 'inactive';
export type GroupBy = 'system' | 'version' | 'status' | 'billing_period' | 'plan';
export type NoUpgradeReason =
  | 'latest_version'
  | 'purchase_required'
  | 'expired'
  | 'superseded'
  | 'inactive';

export interface Terms {
  version: string;
  text: string;
}

export type UpgradeOffer =
  | { available: true; to_version: string; terms: Terms }
  | { available: false; reason: NoUpgradeReason };

/** One serial number of the account, as `GET /subscriptions` returns it. */
export interface Item {
  serial: string;
  system: string;
  system_name: string;
  version: string;
  users: number;
  plan: Plan;
  /** null for licenses */
  billing_period: BillingPeriod | null;
  /** YYYY-MM-DD; null until the desktop program first validates the serial */
  activated_on: string | null;
  /** YYYY-MM-DD; null for licenses */
  next_payment_on: string | null;
  status: Status;
  /** YYYY-MM-DD; set once the serial was upgraded */
  valid_until: string | null;
  upgraded_from: string | null;
  superseded_by: string | null;
  upgrade: UpgradeOffer;
}

export interface Account {
  email: string;
  name: string;
  company: string;
}

export interface LoginRequest {
  email: string;
  password: string;
}

export interface LoginResponse {
  token: string;
  token_type: 'Bearer';
  /** RFC 3339 instant */
  expires_at: string;
  account: Account;
}

export interface PasswordResetRequest {
  email: string;
}

export interface PasswordResetAccepted {
  status: 'accepted';
}

export interface PasswordResetConfirm {
  token: string;
  new_password: string;
}

export interface SubscriptionList {
  subscriptions: Item[];
}

export interface SubscriptionGroup {
  key: string | null;
  subscriptions: Item[];
}

export interface GroupedSubscriptionList {
  groups: SubscriptionGroup[];
}

export interface ListQuery {
  plan?: Plan;
  groupBy?: GroupBy;
}

export interface UpgradeRequest {
  accept_terms: true;
  terms_version: string;
}

export interface UpgradeResponse {
  /** the new serial */
  subscription: Item;
  /** the old serial, now superseded */
  previous: Item;
}

/** The problem codes of SPEC section 2 ("code" of an application/problem+json body). */
export const PROBLEM_CODES = [
  'invalid_request',
  'payload_too_large',
  'method_not_allowed',
  'invalid_token',
  'invalid_credentials',
  'unauthorized',
  'company_mismatch',
  'not_found',
  'no_upgrade_available',
  'purchase_required',
  'subscription_expired',
  'not_active',
  'terms_not_accepted',
  'weak_password',
  'account_locked',
  'unavailable',
] as const;

export type ProblemCode = (typeof PROBLEM_CODES)[number];

/** Codes the client itself uses when there is no problem body to read. */
export type ClientErrorCode = 'network' | 'timeout' | 'unexpected_response';

/** An `application/problem+json` body. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code: string;
}

/** Every failed call rejects with an ApiError; `code` is what the page matches on. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ProblemCode | ClientErrorCode | (string & {});
  readonly problem: Problem | null;
  /** Seconds from a `Retry-After` header, when the answer had one. */
  readonly retryAfter: number | null;

  constructor(
    status: number,
    code: ApiError['code'],
    problem: Problem | null = null,
    retryAfter: number | null = null,
  ) {
    super(`${status} ${code}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

export interface ApiOptions {
  /** e.g. "/api" (dev server proxy) or "https://api.example.com" */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Abort a call that takes longer than this (ms). */
  timeoutMs?: number;
}

export interface Api {
  login(body: LoginRequest): Promise<LoginResponse>;
  logout(token: string): Promise<void>;
  requestPasswordReset(body: PasswordResetRequest): Promise<PasswordResetAccepted>;
  confirmPasswordReset(body: PasswordResetConfirm): Promise<void>;
  listSubscriptions(
    token: string,
    query?: ListQuery,
  ): Promise<SubscriptionList | GroupedSubscriptionList>;
  upgradeSerial(token: string, serial: string, body: UpgradeRequest): Promise<UpgradeResponse>;
}

/** Parses a Retry-After value (delay in seconds or an HTTP date) into seconds. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

function isProblem(body: unknown): body is Problem {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { code?: unknown }).code === 'string'
  );
}

interface Call {
  method: 'GET' | 'POST';
  path: string;
  token?: string;
  body?: unknown;
  query?: Record<string, string | undefined>;
}

export function createApi(options: ApiOptions): Api {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function call<T>({ method, path, token, body, query }: Call): Promise<T> {
    let url = `${base}${path}`;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v);
      const qs = params.toString();
      if (qs) url += `?${qs}`;
    }
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;

    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const name = (e as { name?: string } | null)?.name;
      throw new ApiError(0, name === 'TimeoutError' ? 'timeout' : 'network');
    }

    if (res.ok) {
      if (res.status === 204) return undefined as T;
      try {
        return (await res.json()) as T;
      } catch {
        throw new ApiError(res.status, 'unexpected_response');
      }
    }

    const retryAfter = parseRetryAfter(res.headers.get('Retry-After'));
    let parsed: unknown = null;
    try {
      parsed = await res.json();
    } catch {
      parsed = null;
    }
    if (isProblem(parsed)) throw new ApiError(res.status, parsed.code, parsed, retryAfter);
    throw new ApiError(res.status, 'unexpected_response', null, retryAfter);
  }

  return {
    login: (body) => call<LoginResponse>({ method: 'POST', path: '/login', body }),
    logout: (token) => call<void>({ method: 'POST', path: '/logout', token }),
    requestPasswordReset: (body) =>
      call<PasswordResetAccepted>({ method: 'POST', path: '/password-reset', body }),
    confirmPasswordReset: (body) =>
      call<void>({ method: 'POST', path: '/password-reset/confirm', body }),
    listSubscriptions: (token, query = {}) =>
      call<SubscriptionList | GroupedSubscriptionList>({
        method: 'GET',
        path: '/subscriptions',
        token,
        query: { plan: query.plan, group_by: query.groupBy },
      }),
    upgradeSerial: (token, serial, body) =>
      call<UpgradeResponse>({
        method: 'POST',
        path: `/subscriptions/${encodeURIComponent(serial)}/upgrade`,
        token,
        body,
      }),
  };
}

/** Both list shapes as groups; an ungrouped list is one group with a null key. */
export function asGroups(list: SubscriptionList | GroupedSubscriptionList): SubscriptionGroup[] {
  if ('groups' in list) return list.groups;
  return [{ key: null, subscriptions: list.subscriptions }];
}
