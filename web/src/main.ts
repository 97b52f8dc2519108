// The page shell: header, routing between screens, and the session.
import './styles/base.css';
import './styles/services.css';
import './styles/dialog.css';
import './styles/narrow.css';
import { createApi } from './api.ts';
import type { App, Flash, GoOptions, View } from './app.ts';
import { API_BASE_URL, API_TIMEOUT_MS, VENDOR_NAME } from './config.ts';
import { h, setBusy } from './dom.ts';
import { SESSION_EXPIRED } from './messages.ts';
import { PATHS, routeOf, type RouteName } from './router.ts';
import { clearSession, readSession, saveSession, sessionFromLogin } from './session.ts';
import { forgotView } from './views/forgot.ts';
import { loginView } from './views/login.ts';
import { resetView } from './views/reset.ts';
import { servicesView } from './views/services.ts';

const VIEWS: Record<RouteName, (app: App) => View> = {
  login: loginView,
  forgot: forgotView,
  reset: resetView,
  services: servicesView,
};

const api = createApi({ baseUrl: API_BASE_URL, timeoutMs: API_TIMEOUT_MS });
let flash: Flash | null = null;
let current: View | null = null;

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
  signIn(res) {
    saveSession(sessionFromLogin(res));
    go('services');
  },
  expireSession() {
    clearSession();
    go('login', { flash: { kind: 'error', text: SESSION_EXPIRED } });
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

function renderAccountBar(): void {
  const state = readSession();
  if (state.kind !== 'active') {
    accountBar.replaceChildren();
    return;
  }
  const { account } = state.session;
  const logout = h('button', { type: 'button', class: 'secondary small' }, 'Cerrar sesión');
  logout.addEventListener('click', () => {
    setBusy(logout, true, 'Cerrando sesión…');
    void app.signOut();
  });
  accountBar.replaceChildren(
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
  if (route === 'services' && state.kind !== 'active') {
    if (state.kind === 'expired') flash = { kind: 'error', text: SESSION_EXPIRED };
    go('login', { replace: true });
    return;
  }
  if ((route === 'login' || route === 'forgot') && state.kind === 'active') {
    go('services', { replace: true });
    return;
  }
  current?.destroy?.();
  current = VIEWS[route](app);
  main.replaceChildren(current.element);
  document.title = `${current.title} · Mi cuenta · ${VENDOR_NAME}`;
  renderAccountBar();
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
