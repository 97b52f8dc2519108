// "Cambiar contraseña": the current password, then the new one twice, with the rule said
// before sending as on "Restablecer contraseña".
import { isApiError } from '../../api.ts';
import type { App } from '../../app.ts';
import { flagField, h, messageBox, setBusy, uid, unflagField } from '../../dom.ts';
import { PASSWORD_CHANGED_HERE, PASSWORD_RULE, sentenceFor } from '../../messages.ts';
import { checkPasswordChange, PASSWORD_MAX, PASSWORD_MIN } from '../../validate.ts';
import { part, sessionEnded } from './part.ts';

export function passwordSection(app: App, onChanged: () => void): HTMLElement {
  const currentId = uid('pw-current');
  const newId = uid('pw-new');
  const confirmId = uid('pw-confirm');
  const ruleId = uid('pw-rule');
  const msg = messageBox();
  const msgId = uid('pw-msg');
  msg.element.id = msgId;

  const current = h('input', {
    id: currentId,
    name: 'current-password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const password = h('input', {
    id: newId,
    name: 'new-password',
    type: 'password',
    autocomplete: 'new-password',
    minlength: String(PASSWORD_MIN),
    maxlength: String(PASSWORD_MAX),
    'aria-describedby': ruleId,
    required: true,
  });
  const confirm = h('input', {
    id: confirmId,
    name: 'confirm-password',
    type: 'password',
    autocomplete: 'new-password',
    maxlength: String(PASSWORD_MAX),
    required: true,
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Cambiar contraseña');
  const inputs = { current, password, confirm };

  const form = h(
    'form',
    { class: 'form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: currentId }, 'Contraseña actual'), current),
    h('p', { id: ruleId, class: 'rule' }, PASSWORD_RULE),
    h('div', { class: 'field' }, h('label', { for: newId }, 'Nueva contraseña'), password),
    h('div', { class: 'field' }, h('label', { for: confirmId }, 'Confirma la nueva contraseña'), confirm),
    msg.element,
    h('div', { class: 'actions' }, submit),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const session = app.session();
    if (!session) return;
    for (const input of Object.values(inputs)) unflagField(input, msgId);
    const problem = checkPasswordChange(current.value, password.value, confirm.value, session.account.email);
    if (problem) {
      msg.show('error', problem.message);
      flagField(problem.field === 'current' ? current : problem.field === 'confirm' ? confirm : password, msgId);
      return;
    }
    setBusy(submit, true, 'Cambiando…');
    try {
      await app.api.changePassword(session.token, {
        current_password: current.value,
        new_password: password.value,
      });
      setBusy(submit, false);
      for (const input of Object.values(inputs)) input.value = '';
      msg.show('success', PASSWORD_CHANGED_HERE);
      onChanged();
    } catch (e) {
      setBusy(submit, false);
      if (sessionEnded(app, e)) return;
      msg.show('error', sentenceFor(e, 'password-change'));
      if (isApiError(e) && e.code === 'invalid_credentials') {
        current.value = '';
        flagField(current, msgId);
      } else if (isApiError(e) && e.code === 'weak_password') {
        flagField(password, msgId);
      }
    }
  });

  return part(
    'Contraseña',
    'Para cambiarla escribe primero la actual. Al cambiarla cerramos tus demás sesiones y te avisamos por correo.',
    form,
  ).element;
}
