// "Restablecer contraseña", opened from the mail's link /password-reset?token=...
import { routeLinkHandler, type App, type View } from '../app.ts';
import { flagField, h, messageBox, setBusy, uid, unflagField } from '../dom.ts';
import { PASSWORD_CHANGED, PASSWORD_RULE, sentenceFor } from '../messages.ts';
import { PATHS } from '../router.ts';
import { clearSession } from '../session.ts';
import { checkNewPassword, PASSWORD_MAX, PASSWORD_MIN } from '../validate.ts';
import { isApiError } from '../api.ts';

/** The mailed token, once read from the address bar: kept in memory only. */
let resetToken = '';

/**
 * The token of `?token=…`, taken out of the address bar at once (history, referrers and
 * screenshots never keep it); later renders of this screen in the same page reuse it.
 */
function takeResetToken(): string {
  const params = new URLSearchParams(location.search);
  if (params.has('token')) {
    resetToken = params.get('token')?.trim() ?? '';
    history.replaceState(null, '', PATHS.reset);
  }
  return resetToken;
}

export function resetView(app: App): View {
  const token = takeResetToken();
  const heading = h('h1', { tabindex: '-1', id: 'reset-title' }, 'Restablecer contraseña');
  const element = h('section', { class: 'view narrow', 'aria-labelledby': 'reset-title' }, heading);
  const loginLink = () =>
    h('a', { href: PATHS.login, onclick: routeLinkHandler(app, 'login') }, 'Iniciar sesión');
  const forgotLink = () =>
    h(
      'a',
      { href: PATHS.forgot, onclick: routeLinkHandler(app, 'forgot') },
      'Solicitar un enlace nuevo',
    );

  if (!token) {
    element.append(
      h(
        'div',
        { class: 'card' },
        h(
          'p',
          { class: 'message', 'data-kind': 'error' },
          'Este enlace no es válido: le falta el código para restablecer tu contraseña. Solicita uno nuevo.',
        ),
        h('p', { class: 'aside' }, forgotLink()),
      ),
    );
    return { element, title: 'Restablecer contraseña', heading };
  }

  const ruleId = uid('reset-rule');
  const pwId = uid('reset-password');
  const confirmId = uid('reset-confirm');
  const msg = messageBox();
  const msgId = uid('reset-msg');
  msg.element.id = msgId;

  const password = h('input', {
    id: pwId,
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
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Guardar contraseña');
  const after = h('p', { class: 'aside', hidden: true });

  const fields = [
    h('p', { id: ruleId, class: 'rule' }, PASSWORD_RULE),
    h('div', { class: 'field' }, h('label', { for: pwId }, 'Nueva contraseña'), password),
    h('div', { class: 'field' }, h('label', { for: confirmId }, 'Confirma la nueva contraseña'), confirm),
  ];
  const actions = h('div', { class: 'actions' }, submit);
  const form = h('form', { class: 'card form', novalidate: true }, fields, msg.element, actions, after);
  element.append(form);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    unflagField(password, msgId);
    unflagField(confirm, msgId);
    after.hidden = true;
    const problem = checkNewPassword(password.value, confirm.value);
    if (problem) {
      msg.show('error', problem.message);
      flagField(problem.field === 'password' ? password : confirm, msgId);
      return;
    }
    setBusy(submit, true, 'Guardando…');
    try {
      await app.api.confirmPasswordReset({ token, new_password: password.value });
      // Every session of the account was revoked; forget ours too, and the token.
      clearSession();
      resetToken = '';
      // The message region stays where it is; the fields give way to the result.
      for (const el of [...fields, actions]) el.remove();
      msg.show('success', PASSWORD_CHANGED);
      after.replaceChildren(loginLink());
      after.className = 'actions';
      after.hidden = false;
      heading.focus();
    } catch (e) {
      setBusy(submit, false);
      msg.show('error', sentenceFor(e, 'reset'));
      if (isApiError(e) && e.code === 'invalid_token') {
        resetToken = '';
        after.replaceChildren(forgotLink());
        after.hidden = false;
      } else if (isApiError(e) && e.code === 'weak_password') {
        flagField(password, msgId);
      }
    }
  });

  return { element, title: 'Restablecer contraseña', heading };
}
