// The page the e-mail change's link opens: /email-change?token=... It needs the
// account's session: signed out, it sends to the login and comes back here after it.
import { isApiError } from '../api.ts';
import { routeLinkHandler, type App, type View } from '../app.ts';
import { h, messageBox, setBusy } from '../dom.ts';
import { EMAIL_CHANGED, sentenceFor } from '../messages.ts';
import { PATHS } from '../router.ts';

const TITLE = 'Confirma tu nuevo correo';

/** The mailed token, read once from the address bar and kept in memory only. */
let changeToken = '';

function takeChangeToken(): string {
  const params = new URLSearchParams(location.search);
  if (params.has('token')) {
    changeToken = params.get('token')?.trim() ?? '';
    history.replaceState(null, '', PATHS.emailChange);
  }
  return changeToken;
}

export function emailConfirmView(app: App): View {
  const token = takeChangeToken();
  const heading = h('h1', { tabindex: '-1', id: 'email-confirm-title' }, TITLE);
  const msg = messageBox();
  const card = h('div', { class: 'card form' });
  const element = h('section', { class: 'view narrow', 'aria-labelledby': 'email-confirm-title' }, heading, card);

  if (!token) {
    msg.show('error', 'Este enlace no es válido: le falta su código. Ábrelo de nuevo desde el correo, o solicita el cambio otra vez en Mi cuenta → Seguridad.');
    card.append(msg.element);
    return { element, title: TITLE, heading };
  }

  const session = app.session();
  if (!session) {
    const login = h('a', { href: PATHS.login, class: 'button-link' }, 'Iniciar sesión');
    login.addEventListener('click', (event) => {
      app.returnAfterSignIn('emailChange');
      routeLinkHandler(app, 'login')(event);
    });
    const flash = app.takeFlash();
    if (flash) msg.show(flash.kind, flash.text);
    card.append(
      h('p', {}, 'Para confirmar tu nuevo correo, primero inicia sesión con tu correo actual y tu contraseña. Después volverás a esta página.'),
      msg.element,
      h('p', { class: 'actions' }, login),
    );
    return { element, title: TITLE, heading };
  }

  const confirm = h('button', { type: 'button', class: 'primary' }, 'Confirmar mi nuevo correo');
  card.append(
    h(
      'p',
      {},
      'Tu cuenta ',
      h('strong', {}, session.account.email),
      ' pasará a usar la dirección a la que llegó este enlace. Al confirmarlo cerramos todas tus sesiones, esta también, e inicias sesión con el nuevo correo. Tus servicios no cambian.',
    ),
    msg.element,
    h('div', { class: 'actions' }, confirm),
  );
  confirm.addEventListener('click', async () => {
    const current = app.session();
    if (!current) return;
    setBusy(confirm, true, 'Confirmando…');
    try {
      await app.api.confirmEmailChange(current.token, { token });
      changeToken = '';
      // Every session of the account ended, this one too.
      app.endSession({ kind: 'success', text: EMAIL_CHANGED });
    } catch (e) {
      setBusy(confirm, false);
      if (isApiError(e) && e.code === 'unauthorized') {
        app.returnAfterSignIn('emailChange');
        app.expireSession();
        return;
      }
      msg.show('error', sentenceFor(e, 'email-confirm'));
      if (isApiError(e) && e.code === 'invalid_token') {
        changeToken = '';
        confirm.remove();
      }
    }
  });
  return { element, title: TITLE, heading };
}
