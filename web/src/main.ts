// The page shell: header, routing between screens, and the session.
import './styles/base.css';
import './styles/services.css';
import './styles/dialog.css';
import './styles/security.css';
import './styles/narrow.css';
import { createApi } from './api.ts';
import { routeLinkHandler, type App, type Flash, type GoOptions, type View } from './app.ts';
import { API_BASE_URL, API_TIMEOUT_MS, VENDOR_NAME } from './config.ts';
import { h, setBusy } from './dom.ts';
import { SESSION_EXPIRED } from './messages.ts';
import { PATHS, routeOf, SIGNED_IN_ONLY, type RouteName } from './router.ts';
import { clearSession, readSession, saveSession, sessionFromLogin } from './session.ts';
import { emailConfirmView } from './views/email-confirm.ts';
import { forgotView } from './views/forgot.ts';
import { loginView } from './views/login.ts';
import { resetView } from './views/reset.ts';
import { securityView } from './views/security/index.ts';
import { servicesView } from './views/services.ts';

const VIEWS: Record<RouteName, (app: App) => View> = {
  login: loginView,
  forgot: forgotView,
  reset: resetView,
  services: servicesView,
  security: securityView,
  emailChange: emailConfirmView,
};

/** The signed-in screens of the header's menu. */
const MENU: Array<{ route: RouteName; label: string }> = [
  { route: 'services', label: 'Mis servicios' },
  { route: 'security', label: 'Seguridad' },
];

const api = createApi({ baseUrl: API_BASE_URL, timeoutMs: API_TIMEOUT_MS });
let flash: Flash | null = null;
let current: View | null = null;
let returnTo: RouteName | null = null;

const accountBar = h('div', { class: 'account-bar' });
const main = h('main', { id: 'contenido', tabindex: '-1' });

function go(route: RouteName, options: GoOptions = {}): void {
  if (options.flash) flash = options.flash;
  const url = PATHS[route] + (options.search ?? '');
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render(false);
}

const app: App = {
  api,
  go,
  session() {
    const state = readSession();
    if (state.kind === 'active') return state.session;
    if (state.kind === 'expired') app.expireSession();
    return null;
  },
  signIn(res, twoStep) {
    saveSession(sessionFromLogin(res, twoStep));
    const next = returnTo ?? 'services';
    returnTo = null;
    go(next);
  },
  returnAfterSignIn(route) {
    returnTo = route;
  },
  updateSession(change) {
    const state = readSession();
    if (state.kind === 'active') saveSession({ ...state.session, ...change });
  },
  endSession(f) {
    clearSession();
    go('login', { flash: f });
  },
  expireSession() {
    app.endSession({ kind: 'error', text: SESSION_EXPIRED });
  },
  async signOut() {
    const state = readSession();
    if (state.kind === 'active') {
      try {
        await api.logout(state.session.token);
      } catch {
        // Expired or unreachable: the token is forgotten here either way.
      }
    }
    clearSession();
    go('login', { flash: { kind: 'info', text: 'Cerraste tu sesión.' } });
  },
  takeFlash() {
    const f = flash;
    flash = null;
    return f;
  },
};

function renderAccountBar(route: RouteName): void {
  const state = readSession();
  if (state.kind !== 'active') {
    accountBar.replaceChildren();
    return;
  }
  const menu = h(
    'nav',
    { class: 'account-menu', 'aria-label': 'Mi cuenta' },
    h(
      'ul',
      {},
      MENU.map((item) =>
        h(
          'li',
          {},
          h(
            'a',
            {
              href: PATHS[item.route],
              'aria-current': item.route === route ? 'page' : false,
              onclick: routeLinkHandler(app, item.route),
            },
            item.label,
          ),
        ),
      ),
    ),
  );
  const { account } = state.session;
  const logout = h('button', { type: 'button', class: 'secondary small' }, 'Cerrar sesión');
  logout.addEventListener('click', () => {
    setBusy(logout, true, 'Cerrando sesión…');
    void app.signOut();
  });
  accountBar.replaceChildren(
    menu,
    h(
      'p',
      { class: 'who' },
      h('span', { class: 'who-name' }, account.name),
      h('span', { class: 'who-company' }, account.company),
    ),
    logout,
  );
}

function render(initial: boolean): void {
  const route = routeOf(location.pathname);
  const state = readSession();
  if (SIGNED_IN_ONLY.has(route) && state.kind !== 'active') {
    if (state.kind === 'expired') flash = { kind: 'error', text: SESSION_EXPIRED };
    go('login', { replace: true });
    return;
  }
  if ((route === 'login' || route === 'forgot') && state.kind === 'active') {
    const next = returnTo ?? 'services';
    returnTo = null;
    go(next, { replace: true });
    return;
  }
  current?.destroy?.();
  current = VIEWS[route](app);
  main.replaceChildren(current.element);
  document.title = `${current.title} · Mi cuenta · ${VENDOR_NAME}`;
  renderAccountBar(route);
  if (!initial) current.heading.focus();
}

function shell(): HTMLElement {
  return h(
    'div',
    { class: 'shell' },
    h(
      'a',
      {
        class: 'skip-link',
        href: '#contenido',
        onclick: (e: Event) => {
          // Move focus without touching the URL (a fragment change would re-render).
          e.preventDefault();
          main.focus();
        },
      },
      'Saltar al contenido',
    ),
    h(
      'header',
      { class: 'site-header' },
      h(
        'p',
        { class: 'brand' },
        h('span', { class: 'brand-name' }, VENDOR_NAME),
        h('span', { class: 'brand-section' }, 'Mi cuenta'),
      ),
      accountBar,
    ),
    main,
    h(
      'footer',
      { class: 'site-footer' },
      h('p', {}, `© ${new Date().getFullYear()} ${VENDOR_NAME}. Todos los derechos reservados.`),
    ),
  );
}

const root = document.getElementById('app');
if (root) {
  root.replaceChildren(shell());
  window.addEventListener('popstate', () => render(false));
  render(true);
}
