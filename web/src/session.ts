// The signed-in session, kept in sessionStorage (gone when the tab closes).
import type { Account, LoginResponse } from './api.ts';

const KEY = 'portal.session';

export interface Session {
  token: string;
  expiresAt: string;
  account: Account;
  /**
   * Whether the account has two-step verification on, as far as this page knows: the
   * login needed a code, or "Seguridad" turned it on since. (No route answers it; a
   * change made from another session shows up as a refusal there, which corrects it.)
   */
  twoStep: boolean;
}

export type SessionState =
  | { kind: 'none' }
  | { kind: 'expired' }
  | { kind: 'active'; session: Session };

export function sessionFromLogin(res: LoginResponse, twoStep: boolean): Session {
  return { token: res.token, expiresAt: res.expires_at, account: res.account, twoStep };
}

export function saveSession(session: Session): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(session));
  } catch {
    // Storage full or blocked: the session then lasts as long as the page.
  }
  memory = session;
}

let memory: Session | null = null;

export function clearSession(): void {
  memory = null;
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}

export function readSession(now: number = Date.now()): SessionState {
  let session: Session | null = memory;
  try {
    const raw = sessionStorage.getItem(KEY);
    session = raw ? (JSON.parse(raw) as Session) : memory;
  } catch {
    session = memory;
  }
  if (!session || typeof session.token !== 'string' || !session.account) return { kind: 'none' };
  session.twoStep = session.twoStep === true;
  const expires = Date.parse(session.expiresAt);
  if (!Number.isNaN(expires) && expires <= now) {
    clearSession();
    return { kind: 'expired' };
  }
  return { kind: 'active', session };
}
