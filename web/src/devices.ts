// Known devices: the `device_token` of the last successful login of each e-mail, kept in
// localStorage (it outlives the tab) and sent with later logins for that e-mail, so that
// they pass the account's ceiling of failed logins (`POST /login` in openapi.yaml). It is
// not a session: it grants nothing by itself, and losing it only matters while the
// account is under attack.

const KEY = 'portal.devices';

/** At most this many e-mails are remembered; the one least recently signed in goes first. */
export const MAX_DEVICES = 20;
/** `maxLength` of `device_token` in openapi.yaml: a longer one would be refused. */
export const DEVICE_TOKEN_MAX = 128;

/** What is used of a Storage (localStorage in the page, a fake in the tests). */
export type DeviceStore = Pick<Storage, 'getItem' | 'setItem'>;

/** [normalised e-mail, device token], least recently signed in first. */
type Entry = [string, string];

/** The e-mail as the API compares it: trimmed, lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function isToken(token: unknown): token is string {
  return typeof token === 'string' && token !== '' && token.length <= DEVICE_TOKEN_MAX;
}

function browserStore(): DeviceStore | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage blocked
  }
}

function readEntries(store: DeviceStore): Entry[] {
  try {
    const parsed: unknown = JSON.parse(store.getItem(KEY) ?? '[]');
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (e): e is Entry => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && isToken(e[1]),
    );
  } catch {
    return [];
  }
}

/** The device token to send with a login for `email`, if this browser has one. */
export function deviceTokenFor(email: string, store: DeviceStore | null = browserStore()): string | undefined {
  if (!store) return undefined;
  const key = normalizeEmail(email);
  return readEntries(store).find(([e]) => e === key)?.[1];
}

/** Keeps the device token of a successful login for `email` (replacing the one before). */
export function rememberDevice(
  email: string,
  token: unknown,
  store: DeviceStore | null = browserStore(),
): void {
  if (!store || !isToken(token)) return;
  const key = normalizeEmail(email);
  const entries = readEntries(store).filter(([e]) => e !== key);
  entries.push([key, token]);
  try {
    store.setItem(KEY, JSON.stringify(entries.slice(-MAX_DEVICES)));
  } catch {
    // Storage full or blocked: this login simply is not remembered.
  }
}
