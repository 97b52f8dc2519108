// "Actualiza la versión de tu sistema": the terms, their acceptance, and the new serial.
import { isApiError, type Account, type Api, type UpgradableSubscription, type UpgradeResponse } from '../api.ts';
import { h, keepTabInside, messageBox, setBusy, uid } from '../dom.ts';
import { copyText } from '../clipboard.ts';
import { DOWNLOAD_URL } from '../config.ts';
import { formatDate } from '../format.ts';
import { sentenceFor } from '../messages.ts';

export interface UpgradeDialogOptions {
  api: Api;
  subscription: UpgradableSubscription;
  account: Account;
  token: string;
  /** Gets focus back when the dialog closes (the row's button). */
  opener: HTMLElement;
  /** Focused instead when the opener is gone (the table was redrawn). */
  fallbackFocus: () => HTMLElement | null;
  onUpgraded(res: UpgradeResponse): void;
  /** The server's state may differ from the table's: redraw it. */
  onStale(): void;
  onUnauthorized(): void;
}

const ACTIVATION_MAIL = 'Te enviamos un correo con las instrucciones de activación.';

export function openUpgradeDialog(o: UpgradeDialogOptions): void {
  const { subscription } = o;
  const { to_version: toVersion, terms } = subscription.upgrade;
  const titleId = uid('upgrade-title');
  const introId = uid('upgrade-intro');
  const termsHeadingId = uid('upgrade-terms');
  const checkId = uid('upgrade-accept');
  const msg = messageBox();

  let busy = false;
  let stale = false;

  const title = h('h2', { id: titleId, tabindex: '-1' }, 'Actualiza la versión de tu sistema');
  const closeX = h(
    'button',
    { type: 'button', class: 'icon-button', 'aria-label': 'Cerrar' },
    h('span', { 'aria-hidden': 'true' }, '×'),
  );
  const termsBox = h(
    'div',
    { class: 'terms', tabindex: '0', role: 'region', 'aria-labelledby': termsHeadingId },
    h(
      'h3',
      { id: termsHeadingId },
      'Términos y condiciones ',
      h('span', { class: 'terms-version' }, `(versión ${terms.version})`),
    ),
    h('div', { class: 'terms-text' }, terms.text),
  );
  const check = h('input', { type: 'checkbox', id: checkId, name: 'accept-terms' });
  const accept = h('button', { type: 'button', class: 'primary', disabled: true }, 'Aceptar');
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancelar');

  const body = h(
    'div',
    { class: 'modal-body' },
    h(
      'p',
      { id: introId },
      `Ya está disponible la versión ${toVersion} de ${subscription.system_name} para tu número de serie `,
      h('code', { class: 'serial' }, subscription.serial),
      ` (versión ${subscription.version}). Puedes obtenerla sin costo adicional; antes, lee y acepta los términos y condiciones de la actualización.`,
    ),
    termsBox,
    h('div', { class: 'check' }, check, h('label', { for: checkId }, 'Acepto los términos y condiciones')),
    msg.element,
  );
  const footer = h('div', { class: 'modal-footer' }, cancel, accept);

  const dialog = h(
    'dialog',
    {
      class: 'modal',
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': titleId,
      'aria-describedby': introId,
    },
    h('div', { class: 'modal-header' }, title, closeX),
    body,
    footer,
  );

  check.addEventListener('change', () => {
    accept.disabled = !check.checked || busy;
  });

  accept.addEventListener('click', async () => {
    if (!check.checked || busy) return;
    busy = true;
    check.disabled = true;
    cancel.disabled = true;
    closeX.disabled = true;
    setBusy(accept, true, 'Actualizando…');
    msg.show('info', 'Estamos generando tu nuevo número de serie…');
    try {
      const res = await o.api.upgradeSerial(o.token, subscription.serial, {
        accept_terms: true,
        terms_version: terms.version,
      });
      busy = false;
      showResult(res);
      o.onUpgraded(res);
    } catch (e) {
      busy = false;
      if (isApiError(e) && e.code === 'unauthorized') {
        close();
        o.onUnauthorized();
        return;
      }
      if (isApiError(e) && (e.status === 404 || e.status === 409 || e.code === 'terms_not_accepted')) {
        stale = true;
      }
      setBusy(accept, false);
      check.disabled = false;
      cancel.disabled = false;
      closeX.disabled = false;
      accept.disabled = !check.checked;
      msg.show('error', sentenceFor(e, 'upgrade'));
    }
  });

  function showResult(res: UpgradeResponse): void {
    const fresh = res.subscription;
    const previous = res.previous;
    const copyStatus = h('p', { class: 'copy-status', role: 'status', 'aria-live': 'polite' });
    const serialCode = h('code', { class: 'serial new-serial' }, fresh.serial);
    const copy = h('button', { type: 'button', class: 'secondary' }, 'Copiar');
    copy.setAttribute('aria-label', `Copiar el número de serie ${fresh.serial}`);
    copy.addEventListener('click', async () => {
      const ok = await copyText(fresh.serial, dialog);
      copy.focus();
      copyStatus.textContent = ok
        ? 'Número de serie copiado.'
        : 'No se pudo copiar: selecciona el número de serie y cópialo manualmente.';
    });
    const lastDay = previous?.valid_until ? formatDate(previous.valid_until) : null;
    const doneHeading = h(
      'h3',
      { tabindex: '-1', class: 'result-title' },
      `Tu nuevo número de serie para ${fresh.system_name} ${fresh.version}`,
    );
    const result = h(
      'div',
      { class: 'upgrade-result' },
      doneHeading,
      h('p', { class: 'serial-line' }, serialCode, copy),
      copyStatus,
      h('p', { class: 'mail-sent' }, ACTIVATION_MAIL),
      h(
        'p',
        {},
        lastDay
          ? `Tu número de serie anterior (${previous.serial}, versión ${previous.version}) funciona solo hasta el ${lastDay}. `
          : '',
        'Descarga la nueva versión en el ',
        h('a', { href: DOWNLOAD_URL, target: '_blank', rel: 'noopener' }, 'centro de descargas'),
        '; al activarla, el asistente te pedirá la razón social registrada en tu cuenta: ',
        h('strong', {}, o.account.company),
        '.',
      ),
    );
    msg.clear();
    body.replaceChildren(result, msg.element);
    dialog.removeAttribute('aria-describedby'); // the introduction is gone
    const closeButton = h('button', { type: 'button', class: 'primary' }, 'Cerrar');
    closeButton.addEventListener('click', () => close());
    footer.replaceChildren(closeButton);
    doneHeading.focus();
  }

  function close(): void {
    if (dialog.open) dialog.close();
  }

  cancel.addEventListener('click', () => close());
  closeX.addEventListener('click', () => close());

  // Escape: the browser's "cancel"; held back only while the request is under way.
  dialog.addEventListener('cancel', (event) => {
    if (busy) event.preventDefault();
  });
  dialog.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && busy) {
      event.preventDefault();
      return;
    }
    keepTabInside(dialog, event);
  });
  // A click on the backdrop (outside the box) does nothing: the choice is explicit.

  dialog.addEventListener('close', () => {
    dialog.remove();
    if (stale) o.onStale();
    const target = o.opener.isConnected ? o.opener : o.fallbackFocus();
    target?.focus();
  });

  document.body.append(dialog);
  dialog.showModal();
  // Start at the terms: they are what the person has to read first.
  termsBox.focus();
}
