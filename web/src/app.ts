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
  /** Keeps the session of a login (`twoStep`: it needed a code) and opens the next screen:
   *  the one `returnAfterSignIn` named, or "Mis servicios". */
  signIn(res: LoginResponse, twoStep: boolean): void;
  /** The screen to come back to after the next login (a mailed link opened signed out). */
  returnAfterSignIn(route: RouteName): void;
  /** Changes what the page knows of the session (e.g. two-step verification turned on). */
  updateSession(change: Partial<Pick<Session, 'twoStep'>>): void;
  /** The session ended on the server (the e-mail changed, this session was closed):
   *  forget it here and show the login with `flash`. */
  endSession(flash: Flash): void;
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
