// "Iniciar sesión"
import { isApiError, type LoginRequest } from '../api.ts';
import { routeLinkHandler, type App, type View } from '../app.ts';
import { deviceTokenFor, rememberDevice } from '../devices.ts';
import { flagField, h, messageBox, setBusy, uid, unflagField } from '../dom.ts';
import { sentenceFor } from '../messages.ts';
import { PATHS } from '../router.ts';
import { looksLikeEmail } from '../validate.ts';

export function loginView(app: App): View {
  const emailId = uid('login-email');
  const passwordId = uid('login-password');
  const msg = messageBox();
  const msgId = uid('login-msg');
  msg.element.id = msgId;

  const heading = h('h1', { tabindex: '-1' }, 'Iniciar sesión');
  const email = h('input', {
    id: emailId,
    name: 'email',
    type: 'email',
    autocomplete: 'username',
    inputmode: 'email',
    spellcheck: 'false',
    required: true,
  });
  const password = h('input', {
    id: passwordId,
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Iniciar sesión');

  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: emailId }, 'Correo electrónico'), email),
    h('div', { class: 'field' }, h('label', { for: passwordId }, 'Contraseña'), password),
    msg.element,
    h('div', { class: 'actions' }, submit),
    h(
      'p',
      { class: 'aside' },
      h('a', { href: PATHS.forgot, onclick: routeLinkHandler(app, 'forgot') }, '¿Olvidaste tu contraseña?'),
    ),
  );

  const flash = app.takeFlash();
  if (flash) msg.show(flash.kind, flash.text);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    unflagField(email, msgId);
    unflagField(password, msgId);
    if (!looksLikeEmail(email.value)) {
      msg.show('error', 'Escribe tu correo electrónico, por ejemplo nombre@empresa.com.');
      flagField(email, msgId);
      return;
    }
    if (password.value === '') {
      msg.show('error', 'Escribe tu contraseña.');
      flagField(password, msgId);
      return;
    }
    msg.show('info', 'Verificando tus datos…');
    setBusy(submit, true, 'Entrando…');
    const address = email.value.trim();
    const body: LoginRequest = { email: address, password: password.value };
    // This browser's token of an earlier login for this e-mail, if any.
    const deviceToken = deviceTokenFor(address);
    if (deviceToken) body.device_token = deviceToken;
    try {
      const res = await app.api.login(body);
      rememberDevice(address, res.device_token);
      app.signIn(res);
    } catch (e) {
      setBusy(submit, false);
      msg.show('error', sentenceFor(e, 'login'));
      if (isApiError(e) && e.code === 'invalid_credentials') {
        password.value = '';
        flagField(password, msgId);
      }
    }
  });

  const element = h(
    'section',
    { class: 'view narrow', 'aria-labelledby': 'login-title' },
    heading,
    h('p', { class: 'lead' }, 'Ingresa tus datos para entrar a Mi cuenta.'),
    form,
  );
  heading.id = 'login-title';
  return { element, title: 'Iniciar sesión', heading };
}
