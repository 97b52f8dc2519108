// The page's own paths. "/password-reset" and "/email-change" are fixed by the mails'
// links (`<PORTAL_URL>/password-reset?token=<token>`, `<PORTAL_URL>/email-change?token=<token>`,
// openapi.yaml); an invitation is the reset link with `&invitacion=1`.

export const PATHS = {
  login: '/',
  forgot: '/recuperar-contrasena',
  reset: '/password-reset',
  services: '/mis-servicios',
  security: '/mi-cuenta/seguridad',
  emailChange: '/email-change',
} as const;

export type RouteName = keyof typeof PATHS;

/** Screens only for a signed-in customer (the others send a signed-in one on, or serve both). */
export const SIGNED_IN_ONLY: ReadonlySet<RouteName> = new Set(['services', 'security']);

/** The screen for a path; unknown paths show the login (which sends a signed-in user on). */
export function routeOf(pathname: string): RouteName {
  const path = pathname.replace(/\/+$/, '') || '/';
  for (const [name, p] of Object.entries(PATHS) as Array<[RouteName, string]>) {
    if (p === path) return name;
  }
  return 'login';
}
