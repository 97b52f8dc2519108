// What every screen gets from the page shell.
import type { Api, LoginResponse } from './api.ts';
import type { RouteName } from './router.ts';
import type { Session } from './session.ts';

export interface Flash {
  kind: 'error' | 'info' | 'success';
  text: string;
}

export interface GoOptions {
  flash?: Flash;
  replace?: boolean;
  search?: string;
}

export interface App {
  api: Api;
  go(route: RouteName, options?: GoOptions): void;
  /** The active session, or null (then the caller should stop). */
  session(): Session | null;
  signIn(res: LoginResponse): void;
  /** A call answered 401 unauthorized: back to the login, saying why. */
  expireSession(): void;
  signOut(): Promise<void>;
  /** The message handed over by the previous screen, once. */
  takeFlash(): Flash | null;
}

export interface View {
  element: HTMLElement;
  title: string;
  /** Gets focus when the screen changes (tabindex="-1"). */
  heading: HTMLElement;
  destroy?(): void;
}

/** A link that changes screens without reloading the page. */
export function routeLinkHandler(app: App, route: RouteName) {
  return (event: Event): void => {
    const e = event as MouseEvent;
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    app.go(route);
  };
}
