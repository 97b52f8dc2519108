// "¿Olvidaste tu contraseña?"
import { isApiError } from '../api.ts';
import { routeLinkHandler, type App, type View } from '../app.ts';
import { flagField, h, messageBox, setBusy, uid, unflagField } from '../dom.ts';
import { RESET_REQUESTED, sentenceFor } from '../messages.ts';
import { PATHS } from '../router.ts';
import { looksLikeEmail } from '../validate.ts';

export function forgotView(app: App): View {
  const emailId = uid('forgot-email');
  const msg = messageBox();
  const msgId = uid('forgot-msg');
  msg.element.id = msgId;

  const heading = h('h1', { tabindex: '-1', id: 'forgot-title' }, '¿Olvidaste tu contraseña?');
  const email = h('input', {
    id: emailId,
    name: 'email',
    type: 'email',
    autocomplete: 'email',
    inputmode: 'email',
    spellcheck: 'false',
    required: true,
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Enviar enlace');
  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    h(
      'p',
      {},
      'Escribe el correo electrónico con el que registraste tu cuenta y te enviaremos un enlace para restablecer tu contraseña.',
    ),
    h('div', { class: 'field' }, h('label', { for: emailId }, 'Correo electrónico'), email),
    msg.element,
    h('div', { class: 'actions' }, submit),
    h(
      'p',
      { class: 'aside' },
      h('a', { href: PATHS.login, onclick: routeLinkHandler(app, 'login') }, 'Volver a iniciar sesión'),
    ),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    unflagField(email, msgId);
    if (!looksLikeEmail(email.value)) {
      msg.show('error', 'Escribe un correo electrónico válido, por ejemplo nombre@empresa.com.');
      flagField(email, msgId);
      return;
    }
    setBusy(submit, true, 'Enviando…');
    try {
      await app.api.requestPasswordReset({ email: email.value.trim() });
      msg.show('success', RESET_REQUESTED);
    } catch (e) {
      // The answer never tells whether the account exists: any 2xx (even with a body
      // that could not be read) is the same sentence; failures get their own.
      if (isApiError(e) && e.status >= 200 && e.status < 300) msg.show('success', RESET_REQUESTED);
      else msg.show('error', sentenceFor(e, 'forgot'));
    } finally {
      setBusy(submit, false);
    }
  });

  const element = h(
    'section',
    { class: 'view narrow', 'aria-labelledby': 'forgot-title' },
    heading,
    form,
  );
  return { element, title: '¿Olvidaste tu contraseña?', heading };
}
