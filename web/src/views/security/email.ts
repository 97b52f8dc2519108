// "Correo electrónico": a new address and the password; the change waits for the link
// mailed to the new address (the confirm page, views/email-confirm.ts).
import { isApiError } from '../../api.ts';
import type { App } from '../../app.ts';
import { flagField, h, messageBox, setBusy, uid, unflagField } from '../../dom.ts';
import { EMAIL_CHANGE_SENT, sentenceFor } from '../../messages.ts';
import { checkEmailChange } from '../../validate.ts';
import { part, sessionEnded } from './part.ts';

export function emailSection(app: App): HTMLElement {
  const emailId = uid('email-new');
  const passwordId = uid('email-password');
  const msg = messageBox();
  const msgId = uid('email-msg');
  msg.element.id = msgId;
  const currentEmail = app.session()?.account.email ?? '';

  const email = h('input', {
    id: emailId,
    name: 'new-email',
    type: 'email',
    autocomplete: 'email',
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
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Enviar enlace de confirmación');
  const form = h(
    'form',
    { class: 'form', novalidate: true },
    h('p', {}, 'Tu correo actual: ', h('strong', { class: 'current-email' }, currentEmail)),
    h('div', { class: 'field' }, h('label', { for: emailId }, 'Nuevo correo electrónico'), email),
    h('div', { class: 'field' }, h('label', { for: passwordId }, 'Tu contraseña'), password),
    msg.element,
    h('div', { class: 'actions' }, submit),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const session = app.session();
    if (!session) return;
    unflagField(email, msgId);
    unflagField(password, msgId);
    const problem = checkEmailChange(email.value, password.value, session.account.email);
    if (problem) {
      msg.show('error', problem.message);
      flagField(problem.field === 'email' ? email : password, msgId);
      return;
    }
    const address = email.value.trim();
    setBusy(submit, true, 'Enviando…');
    try {
      await app.api.requestEmailChange(session.token, { new_email: address, password: password.value });
      setBusy(submit, false);
      email.value = '';
      password.value = '';
      msg.show('success', EMAIL_CHANGE_SENT(address));
    } catch (e) {
      setBusy(submit, false);
      if (sessionEnded(app, e)) return;
      msg.show('error', sentenceFor(e, 'email-change'));
      if (isApiError(e) && e.code === 'invalid_credentials') {
        password.value = '';
        flagField(password, msgId);
      } else if (isApiError(e) && e.code === 'invalid_request') {
        flagField(email, msgId);
      }
    }
  });

  return part(
    'Correo electrónico',
    'Con él inicias sesión y a él te escribimos. Para cambiarlo te enviamos un enlace a la nueva dirección; tus servicios no cambian.',
    form,
  ).element;
}
