// The set-password page, opened from a mailed link /password-reset?token=...: a reset
// ("Restablecer contraseña"), or with `&invitacion=1` the invitation of an account made
// for the customer ("Define tu contraseña"); the same token and the same route either way.
import { routeLinkHandler, type App, type View } from '../app.ts';
import { flagField, h, messageBox, setBusy, uid, unflagField } from '../dom.ts';
import { PASSWORD_CHANGED, PASSWORD_RULE, PASSWORD_SET, sentenceFor } from '../messages.ts';
import { PATHS } from '../router.ts';
import { clearSession } from '../session.ts';
import { checkNewPassword, PASSWORD_MAX, PASSWORD_MIN } from '../validate.ts';
import { isApiError } from '../api.ts';

/** The mailed token, once read from the address bar: kept in memory only. */
let resetToken = '';
/** Whether the link is an invitation (`invitacion=1`), remembered with the token. */
let invitation = false;

/**
 * The token of `?token=…`, taken out of the address bar at once (history, referrers and
 * screenshots never keep it); later renders of this screen in the same page reuse it.
 */
function takeResetToken(): string {
  const params = new URLSearchParams(location.search);
  if (params.has('token')) {
    resetToken = params.get('token')?.trim() ?? '';
    invitation = params.get('invitacion') === '1';
    history.replaceState(null, '', PATHS.reset);
  }
  return resetToken;
}

/** The words of the page: a reset, or the invitation's first password. */
function wording() {
  return invitation
    ? {
        title: 'Define tu contraseña',
        lead: 'Te damos la bienvenida a Mi cuenta. Elige la contraseña con la que entrarás.',
        missing: 'Este enlace no es válido: le falta el código de tu invitación. Pide uno nuevo con «¿Olvidaste tu contraseña?».',
        field: 'Contraseña',
        confirm: 'Confirma la contraseña',
        done: PASSWORD_SET,
        context: 'invitation' as const,
      }
    : {
        title: 'Restablecer contraseña',
        lead: null,
        missing: 'Este enlace no es válido: le falta el código para restablecer tu contraseña. Solicita uno nuevo.',
        field: 'Nueva contraseña',
        confirm: 'Confirma la nueva contraseña',
        done: PASSWORD_CHANGED,
        context: 'reset' as const,
      };
}

export function resetView(app: App): View {
  const token = takeResetToken();
  const words = wording();
  const heading = h('h1', { tabindex: '-1', id: 'reset-title' }, words.title);
  const element = h(
    'section',
    { class: 'view narrow', 'aria-labelledby': 'reset-title' },
    heading,
    words.lead ? h('p', { class: 'lead' }, words.lead) : null,
  );
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
          words.missing,
        ),
        h('p', { class: 'aside' }, forgotLink()),
      ),
    );
    return { element, title: words.title, heading };
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
    h('div', { class: 'field' }, h('label', { for: pwId }, words.field), password),
    h('div', { class: 'field' }, h('label', { for: confirmId }, words.confirm), confirm),
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
      msg.show('success', words.done);
      after.replaceChildren(loginLink());
      after.className = 'actions';
      after.hidden = false;
      heading.focus();
    } catch (e) {
      setBusy(submit, false);
      msg.show('error', sentenceFor(e, words.context));
      if (isApiError(e) && e.code === 'invalid_token') {
        resetToken = '';
        after.replaceChildren(forgotLink());
        after.hidden = false;
      } else if (isApiError(e) && e.code === 'weak_password') {
        flagField(password, msgId);
      }
    }
  });

  return { element, title: words.title, heading };
}
