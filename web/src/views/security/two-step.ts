// "Verificación en dos pasos" (TOTP): turn it on (a QR code drawn here, the secret as text,
// a first code), the ten recovery codes shown once (copy, download), and off with a code.
import { isApiError, type TotpEnrolment } from '../../api.ts';
import type { App } from '../../app.ts';
import { copyText } from '../../clipboard.ts';
import { VENDOR_NAME } from '../../config.ts';
import { saveBlob } from '../../download.ts';
import { flagField, h, messageBox, setBusy, uid, unflagField } from '../../dom.ts';
import { formatInstant } from '../../format.ts';
import { sentenceFor } from '../../messages.ts';
import { groupSecret, RECOVERY_FILE_NAME, recoveryCodesText } from '../../two-step.ts';
import { codeField } from '../code-field.ts';
import { part, sessionEnded } from './part.ts';

const LEAD =
  'Además de tu contraseña, al iniciar sesión te pedimos un código que genera una aplicación de autenticación en tu teléfono (por ejemplo Google Authenticator, Microsoft Authenticator o 1Password).';
const ON_TEXT = 'La verificación en dos pasos está activa: al iniciar sesión te pedimos el código de tu aplicación.';
const OFF_TEXT = 'La verificación en dos pasos no está activa.';

export function twoStepSection(app: App): HTMLElement {
  const msg = messageBox();
  const body = h('div', { class: 'two-step' });
  const { element, heading } = part('Verificación en dos pasos', LEAD, msg.element, body);

  function known(on: boolean): void {
    app.updateSession({ twoStep: on });
  }

  /** A refusal that says the state is not what the page thought: follow it. */
  function followState(e: unknown): boolean {
    if (!isApiError(e)) return false;
    if (e.code === 'mfa_already_enabled') {
      known(true);
      showOn();
      msg.show('info', sentenceFor(e, 'two-step'));
      return true;
    }
    if (e.code === 'mfa_not_enabled') {
      known(false);
      showOff();
      msg.show('info', sentenceFor(e, 'two-step'));
      return true;
    }
    return false;
  }

  function showOff(): void {
    const start = h('button', { type: 'button', class: 'primary' }, 'Activar la verificación en dos pasos');
    start.addEventListener('click', async () => {
      const session = app.session();
      if (!session) return;
      msg.clear();
      setBusy(start, true, 'Preparando…');
      try {
        // The QR encoder is loaded only here, when someone turns it on (its own chunk).
        const [enrolment, qr] = await Promise.all([app.api.startTotp(session.token), import('../../qr.ts')]);
        showEnrolment(enrolment, qr.qrSvg);
      } catch (e) {
        setBusy(start, false);
        if (sessionEnded(app, e) || followState(e)) return;
        msg.show('error', sentenceFor(e, 'two-step'));
      }
    });
    body.replaceChildren(h('p', { class: 'state', 'data-state': 'off' }, OFF_TEXT), h('div', { class: 'actions' }, start));
  }

  function showEnrolment(enrolment: TotpEnrolment, qrSvg: (text: string, label: string) => SVGSVGElement): void {
    const secretId = uid('totp-secret');
    const code = codeField({ allowRecovery: false });
    const formMsg = messageBox();
    const formMsgId = uid('totp-msg');
    formMsg.element.id = formMsgId;
    const confirm = h('button', { type: 'submit', class: 'primary' }, 'Confirmar y activar');
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancelar');
    const copy = h('button', { type: 'button', class: 'secondary small', 'aria-describedby': secretId }, 'Copiar clave');
    const copied = h('span', { class: 'copied', role: 'status' });
    copy.addEventListener('click', async () => {
      const ok = await copyText(enrolment.secret, body);
      copied.textContent = ok ? 'Clave copiada.' : 'No se pudo copiar: selecciónala y cópiala a mano.';
    });
    cancel.addEventListener('click', () => {
      showOff();
      msg.show('info', 'No activaste la verificación en dos pasos.');
      heading.focus();
    });

    const form = h(
      'form',
      { class: 'form', novalidate: true },
      code.element,
      formMsg.element,
      h('div', { class: 'actions' }, confirm, cancel),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const session = app.session();
      if (!session) return;
      unflagField(code.input, formMsgId);
      const checked = code.read();
      if (!checked.ok) {
        formMsg.show('error', checked.message);
        flagField(code.input, formMsgId);
        return;
      }
      setBusy(confirm, true, 'Activando…');
      try {
        const { recovery_codes } = await app.api.confirmTotp(session.token, { code: checked.code });
        known(true);
        showRecoveryCodes(recovery_codes, session.account.email);
      } catch (e) {
        setBusy(confirm, false);
        if (sessionEnded(app, e) || followState(e)) return;
        formMsg.show('error', sentenceFor(e, 'two-step'));
        if (isApiError(e) && e.code === 'mfa_not_started') showOff();
        else {
          code.clear();
          flagField(code.input, formMsgId);
        }
      }
    });

    body.replaceChildren(
      h(
        'ol',
        { class: 'steps' },
        h(
          'li',
          {},
          h('p', {}, 'Escanea este código QR con tu aplicación de autenticación.'),
          qrSvg(enrolment.otpauth_uri, 'Código QR para agregar tu cuenta a la aplicación de autenticación'),
          h('p', {}, '¿No puedes escanearlo? Escribe esta clave en la aplicación (basada en tiempo, 6 dígitos):'),
          h(
            'p',
            { class: 'secret-line' },
            h('code', { class: 'secret', id: secretId, 'data-secret': enrolment.secret }, groupSecret(enrolment.secret)),
            copy,
            copied,
          ),
        ),
        h('li', {}, h('p', {}, 'Escribe el código que muestra la aplicación para confirmar que quedó bien configurada.'), form),
      ),
    );
    heading.focus();
  }

  function showRecoveryCodes(codes: string[], email: string): void {
    const titleId = uid('recovery-title');
    const title = h('h3', { id: titleId, tabindex: '-1' }, 'Tus códigos de recuperación');
    const copied = h('span', { class: 'copied', role: 'status' });
    const text = recoveryCodesText(codes, email, VENDOR_NAME, formatInstant(new Date().toISOString()));
    const download = h('button', { type: 'button', class: 'secondary' }, 'Descargar los códigos (.txt)');
    download.addEventListener('click', () =>
      saveBlob(new Blob([text], { type: 'text/plain;charset=utf-8' }), RECOVERY_FILE_NAME),
    );
    const copy = h('button', { type: 'button', class: 'secondary' }, 'Copiar los códigos');
    copy.addEventListener('click', async () => {
      const ok = await copyText(codes.join('\n'), body);
      copied.textContent = ok ? 'Códigos copiados.' : 'No se pudieron copiar: selecciónalos y cópialos a mano.';
    });
    const done = h('button', { type: 'button', class: 'primary' }, 'Ya los guardé');
    done.addEventListener('click', () => {
      showOn();
      heading.focus();
    });
    msg.show('success', 'La verificación en dos pasos quedó activa.');
    body.replaceChildren(
      h(
        'div',
        { class: 'recovery', role: 'group', 'aria-labelledby': titleId },
        title,
        h(
          'p',
          { class: 'rule' },
          'Guárdalos ahora en un lugar seguro: es la única vez que los verás. Cada código sirve una sola vez para entrar si no tienes tu aplicación a la mano.',
        ),
        h('ol', { class: 'recovery-codes' }, codes.map((c) => h('li', {}, h('code', {}, c)))),
        h('div', { class: 'actions' }, download, copy, copied),
        h('div', { class: 'actions' }, done),
      ),
    );
    title.focus();
  }

  function showOn(): void {
    const off = h('button', { type: 'button', class: 'secondary' }, 'Desactivar la verificación en dos pasos');
    off.addEventListener('click', () => showTurnOff());
    body.replaceChildren(h('p', { class: 'state', 'data-state': 'on' }, ON_TEXT), h('div', { class: 'actions' }, off));
  }

  function showTurnOff(): void {
    const code = codeField({ allowRecovery: true });
    const formMsg = messageBox();
    const formMsgId = uid('totp-off-msg');
    formMsg.element.id = formMsgId;
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Desactivar');
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancelar');
    cancel.addEventListener('click', () => {
      showOn();
      heading.focus();
    });
    const form = h(
      'form',
      { class: 'form', novalidate: true },
      h('p', {}, 'Para desactivarla escribe un código de tu aplicación o uno de tus códigos de recuperación.'),
      code.element,
      formMsg.element,
      h('div', { class: 'actions' }, submit, cancel),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const session = app.session();
      if (!session) return;
      unflagField(code.input, formMsgId);
      const checked = code.read();
      if (!checked.ok) {
        formMsg.show('error', checked.message);
        flagField(code.input, formMsgId);
        return;
      }
      setBusy(submit, true, 'Desactivando…');
      try {
        await app.api.disableTotp(session.token, { code: checked.code });
        known(false);
        showOff();
        msg.show('success', 'Desactivaste la verificación en dos pasos. Al iniciar sesión solo te pediremos tu contraseña.');
        heading.focus();
      } catch (e) {
        setBusy(submit, false);
        if (sessionEnded(app, e) || followState(e)) return;
        formMsg.show('error', sentenceFor(e, 'two-step'));
        if (isApiError(e) && e.code === 'invalid_code') {
          code.clear();
          flagField(code.input, formMsgId);
        }
      }
    });
    body.replaceChildren(form);
    code.input.focus();
  }

  if (app.session()?.twoStep) showOn();
  else showOff();
  return element;
}
