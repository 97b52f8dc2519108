// The portal's HTTP API (openapi.yaml): friendly names for its types, and one function
// per route. The types come from src/api-types.ts, which openapi-typescript generates
// from openapi.yaml (`npm run api-types`); the names here are the document's schema
// names. Nothing else in the page calls `fetch`.
import type { components, operations } from './api-types.ts';

type Schemas = components['schemas'];

/** One serial number of the account (a subscription or a license), as `GET /subscriptions` returns it. */
export type Subscription = Schemas['Subscription'];
export type Plan = Schemas['Plan'];
export type SerialStatus = Schemas['SerialStatus'];
/** `billing_period` of a subscription (a license has none: null). */
export type BillingPeriod = NonNullable<Subscription['billing_period']>;
export type UpgradeAvailable = Schemas['UpgradeAvailable'];
export type Terms = Schemas['Terms'];
/** A subscription with a free upgrade on offer. */
export type UpgradableSubscription = Subscription & { upgrade: UpgradeAvailable };

export type LoginRequest = Schemas['LoginRequest'];
export type LoginResponse = Schemas['LoginResponse'];
/** `account` of a login. */
export type Account = LoginResponse['account'];
/** `POST /login`'s answer when the account has two-step verification on: no session yet. */
export type MfaChallenge = Schemas['MfaChallenge'];
export type LoginMfaRequest = Schemas['LoginMfaRequest'];
export type PasswordResetRequest = Schemas['PasswordResetRequest'];
export type Accepted = Schemas['Accepted'];
export type PasswordResetConfirmRequest = Schemas['PasswordResetConfirmRequest'];

export type PasswordChangeRequest = Schemas['PasswordChangeRequest'];
export type SessionList = Schemas['SessionList'];
/** One open session of the account (`GET /sessions`); `id` is not its token. */
export type SessionInfo = Schemas['SessionInfo'];
export type TotpEnrolment = Schemas['TotpEnrolment'];
export type TotpCodeRequest = Schemas['TotpCodeRequest'];
export type RecoveryCodes = Schemas['RecoveryCodes'];
export type EmailChangeRequest = Schemas['EmailChangeRequest'];
export type EmailChangeConfirmRequest = Schemas['EmailChangeConfirmRequest'];

/** The query of `GET /subscriptions`. */
export type ListQuery = NonNullable<operations['listSubscriptions']['parameters']['query']>;
/** `group_by` of `GET /subscriptions`. */
export type GroupBy = NonNullable<ListQuery['group_by']>;
export type SubscriptionList = Schemas['SubscriptionList'];
export type GroupedSubscriptionList = Schemas['GroupedSubscriptionList'];
/** One of `groups` of a grouped list. */
export type SubscriptionGroup = GroupedSubscriptionList['groups'][number];

export type UpgradeRequest = Schemas['UpgradeRequest'];
export type UpgradeResponse = Schemas['UpgradeResponse'];

export type LicenseFileRequest = Schemas['LicenseFileRequest'];
/** The offline activation file of one installation: `license` is the file's content. */
export type LicenseFile = Schemas['LicenseFile'];

/** An `application/problem+json` body (schema `Problem`). */
export type Problem = Schemas['Problem'];
/** The `code` of a problem: the key the page matches on. */
export type ProblemCode = Problem['code'];

/** Every `code` of openapi.yaml's `Problem`; the test of src/messages.ts walks them. */
export const PROBLEM_CODES = [
  'invalid_request',
  'payload_too_large',
  'unsupported_media_type',
  'method_not_allowed',
  'invalid_token',
  'invalid_credentials',
  'invalid_code',
  'unauthorized',
  'company_mismatch',
  'not_found',
  'no_upgrade_available',
  'purchase_required',
  'subscription_expired',
  'not_active',
  'mfa_already_enabled',
  'mfa_not_enabled',
  'mfa_not_started',
  'email_taken',
  'terms_not_accepted',
  'weak_password',
  'account_locked',
  'too_many_attempts',
  'unavailable',
  'internal_error',
] as const satisfies readonly ProblemCode[];

/** Does not compile while a code of `Problem` is missing from PROBLEM_CODES. */
export type UnlistedProblemCodes = NoneLeft<Exclude<ProblemCode, (typeof PROBLEM_CODES)[number]>>;
type NoneLeft<T extends never> = T;

/** Codes the client itself uses when there is no problem body to read. */
export type ClientErrorCode = 'network' | 'timeout' | 'unexpected_response';

/**
 * A problem body as the page reads it: only `code` is checked, and it may be a code
 * this page does not know yet.
 */
export type ReceivedProblem = Partial<Omit<Problem, 'code'>> & { code: string };

/** Every failed call rejects with an ApiError; `code` is what the page matches on. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ProblemCode | ClientErrorCode | (string & {});
  readonly problem: ReceivedProblem | null;
  /** Seconds from a `Retry-After` header, when the answer had one. */
  readonly retryAfter: number | null;

  constructor(
    status: number,
    code: ApiError['code'],
    problem: ReceivedProblem | null = null,
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

/** Whether a login answer asks for the second step (`POST /login/mfa`). */
export function isMfaChallenge(res: LoginResponse | MfaChallenge): res is MfaChallenge {
  return (res as Partial<MfaChallenge>).mfa_required === true;
}

export interface Api {
  login(body: LoginRequest): Promise<LoginResponse | MfaChallenge>;
  loginMfa(body: LoginMfaRequest): Promise<LoginResponse>;
  logout(token: string): Promise<void>;
  requestPasswordReset(body: PasswordResetRequest): Promise<Accepted>;
  confirmPasswordReset(body: PasswordResetConfirmRequest): Promise<void>;
  listSubscriptions(
    token: string,
    query?: ListQuery,
  ): Promise<SubscriptionList | GroupedSubscriptionList>;
  upgradeSerial(token: string, serial: string, body: UpgradeRequest): Promise<UpgradeResponse>;
  issueLicenseFile(token: string, serial: string, body: LicenseFileRequest): Promise<LicenseFile>;
  changePassword(token: string, body: PasswordChangeRequest): Promise<void>;
  listSessions(token: string): Promise<SessionList>;
  endSession(token: string, id: string): Promise<void>;
  startTotp(token: string): Promise<TotpEnrolment>;
  confirmTotp(token: string, body: TotpCodeRequest): Promise<RecoveryCodes>;
  disableTotp(token: string, body: TotpCodeRequest): Promise<void>;
  requestEmailChange(token: string, body: EmailChangeRequest): Promise<Accepted>;
  confirmEmailChange(token: string, body: EmailChangeConfirmRequest): Promise<void>;
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

function isProblem(body: unknown): body is ReceivedProblem {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { code?: unknown }).code === 'string'
  );
}

interface Call {
  method: 'GET' | 'POST' | 'DELETE';
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
    login: (body) => call<LoginResponse | MfaChallenge>({ method: 'POST', path: '/login', body }),
    loginMfa: (body) => call<LoginResponse>({ method: 'POST', path: '/login/mfa', body }),
    logout: (token) => call<void>({ method: 'POST', path: '/logout', token }),
    requestPasswordReset: (body) =>
      call<Accepted>({ method: 'POST', path: '/password-reset', body }),
    confirmPasswordReset: (body) =>
      call<void>({ method: 'POST', path: '/password-reset/confirm', body }),
    listSubscriptions: (token, query = {}) =>
      call<SubscriptionList | GroupedSubscriptionList>({
        method: 'GET',
        path: '/subscriptions',
        token,
        query: { plan: query.plan, group_by: query.group_by },
      }),
    upgradeSerial: (token, serial, body) =>
      call<UpgradeResponse>({
        method: 'POST',
        path: `/subscriptions/${encodeURIComponent(serial)}/upgrade`,
        token,
        body,
      }),
    issueLicenseFile: (token, serial, body) =>
      call<LicenseFile>({
        method: 'POST',
        path: `/subscriptions/${encodeURIComponent(serial)}/license-file`,
        token,
        body,
      }),
    changePassword: (token, body) => call<void>({ method: 'POST', path: '/password', token, body }),
    listSessions: (token) => call<SessionList>({ method: 'GET', path: '/sessions', token }),
    endSession: (token, id) =>
      call<void>({ method: 'DELETE', path: `/sessions/${encodeURIComponent(id)}`, token }),
    // Its body is ignored; an empty JSON object keeps the call a plain JSON POST.
    startTotp: (token) => call<TotpEnrolment>({ method: 'POST', path: '/mfa/totp', token, body: {} }),
    confirmTotp: (token, body) =>
      call<RecoveryCodes>({ method: 'POST', path: '/mfa/totp/confirm', token, body }),
    disableTotp: (token, body) => call<void>({ method: 'DELETE', path: '/mfa/totp', token, body }),
    requestEmailChange: (token, body) =>
      call<Accepted>({ method: 'POST', path: '/email-change', token, body }),
    confirmEmailChange: (token, body) =>
      call<void>({ method: 'POST', path: '/email-change/confirm', token, body }),
  };
}

/** Both list shapes as groups; an ungrouped list is one group with a null key. */
export function asGroups(list: SubscriptionList | GroupedSubscriptionList): SubscriptionGroup[] {
  if ('groups' in list) return list.groups;
  return [{ key: null, subscriptions: list.subscriptions }];
}
