// "Iniciar sesión": e-mail and password, then, for an account with two-step verification
// on, the code of its app (or a recovery code) in a second step (`POST /login/mfa`).
import { isApiError, isMfaChallenge, type LoginRequest, type MfaChallenge } from '../api.ts';
import { routeLinkHandler, type App, type View } from '../app.ts';
import { deviceTokenFor, rememberDevice } from '../devices.ts';
import { flagField, h, messageBox, setBusy, uid, unflagField } from '../dom.ts';
import { sentenceFor } from '../messages.ts';
import { PATHS } from '../router.ts';
import { looksLikeEmail } from '../validate.ts';
import { codeField } from './code-field.ts';

const TITLE = 'Iniciar sesión';
const SECOND_STEP = 'Verificación en dos pasos';
const LEAD = 'Ingresa tus datos para entrar a Mi cuenta.';

export function loginView(app: App): View {
  const emailId = uid('login-email');
  const passwordId = uid('login-password');
  const msg = messageBox();
  const msgId = uid('login-msg');
  msg.element.id = msgId;

  const heading = h('h1', { tabindex: '-1', id: 'login-title' }, TITLE);
  const lead = h('p', { class: 'lead' }, LEAD);
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
  const submit = h('button', { type: 'submit', class: 'primary' }, TITLE);

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

  const element = h('section', { class: 'view narrow', 'aria-labelledby': 'login-title' }, heading, lead, form);

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
      if (isMfaChallenge(res)) {
        password.value = '';
        setBusy(submit, false);
        msg.clear();
        secondStep(address, res);
        return;
      }
      rememberDevice(address, res.device_token);
      app.signIn(res, false);
    } catch (e) {
      setBusy(submit, false);
      msg.show('error', sentenceFor(e, 'login'));
      if (isApiError(e) && e.code === 'invalid_credentials') {
        password.value = '';
        flagField(password, msgId);
      }
    }
  });

  /** The code step, in place of the form; "Volver" (or a spent token) brings the form back. */
  function secondStep(address: string, challenge: MfaChallenge): void {
    const stepMsg = messageBox();
    const stepMsgId = uid('mfa-msg');
    stepMsg.element.id = stepMsgId;
    const code = codeField({ allowRecovery: true });
    const verify = h('button', { type: 'submit', class: 'primary' }, 'Verificar');
    const back = h('button', { type: 'button', class: 'secondary' }, 'Volver');
    const stepForm = h(
      'form',
      { class: 'card form', novalidate: true },
      code.element,
      stepMsg.element,
      h('div', { class: 'actions' }, verify, back),
    );

    function backToPassword(text?: string): void {
      stepForm.replaceWith(form);
      heading.textContent = TITLE;
      lead.textContent = LEAD;
      if (text) msg.show('error', text);
      password.focus();
    }
    back.addEventListener('click', () => backToPassword());

    stepForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      unflagField(code.input, stepMsgId);
      const checked = code.read();
      if (!checked.ok) {
        stepMsg.show('error', checked.message);
        flagField(code.input, stepMsgId);
        return;
      }
      stepMsg.show('info', 'Verificando el código…');
      setBusy(verify, true, 'Verificando…');
      try {
        const res = await app.api.loginMfa({ mfa_token: challenge.mfa_token, code: checked.code });
        rememberDevice(address, res.device_token);
        app.signIn(res, true);
      } catch (e) {
        setBusy(verify, false);
        if (isApiError(e) && e.code === 'invalid_token') {
          backToPassword(sentenceFor(e, 'mfa'));
          return;
        }
        stepMsg.show('error', sentenceFor(e, 'mfa'));
        if (isApiError(e) && e.code === 'invalid_code') {
          code.clear();
          flagField(code.input, stepMsgId);
        }
      }
    });

    form.replaceWith(stepForm);
    heading.textContent = SECOND_STEP;
    lead.textContent =
      'Tu cuenta tiene activa la verificación en dos pasos. Escribe el código que muestra tu aplicación de autenticación.';
    code.input.focus();
  }

  return { element, title: TITLE, heading };
}
