// The page's own paths. "/password-reset" is fixed by the mail's link
// (`<PORTAL_URL>/password-reset?token=<token>`, `POST /password-reset` in openapi.yaml).

export const PATHS = {
  login: '/',
  forgot: '/recuperar-contrasena',
  reset: '/password-reset',
  services: '/mis-servicios',
} as const;

export type RouteName = keyof typeof PATHS;

/** The screen for a path; unknown paths show the login (which sends a signed-in user on). */
export function routeOf(pathname: string): RouteName {
  const path = pathname.replace(/\/+$/, '') || '/';
  for (const [name, p] of Object.entries(PATHS) as Array<[RouteName, string]>) {
    if (p === path) return name;
  }
  return 'login';
}
