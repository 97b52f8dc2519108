// "Archivo de activación sin conexión": the installation code, then the signed `.lic`
// file the desktop program loads on a machine without internet.
import { isApiError, type Api, type LicenseFile, type Subscription } from '../api.ts';
import { flagField, h, keepTabInside, messageBox, setBusy, uid, unflagField } from '../dom.ts';
import { licenseBlob, licenseFileName, saveBlob } from '../download.ts';
import { formatDate } from '../format.ts';
import { sentenceFor } from '../messages.ts';
import { checkInstallation } from '../validate.ts';

export const LICENSE_DIALOG_TITLE = 'Archivo de activación sin conexión';
export const WHERE_THE_CODE_IS =
  'Tu sistema lo muestra en su asistente de activación, en la opción «Solicitar clave de confirmación». Cópialo tal como aparece.';
export const HOW_TO_LOAD =
  'En el asistente de activación de tu sistema, elige «Activar con archivo» y selecciona el archivo descargado.';

export interface LicenseDialogOptions {
  api: Api;
  subscription: Subscription;
  token: string;
  /** Gets focus back when the dialog closes (the row's button). */
  opener: HTMLElement;
  /** Focused instead when the opener is gone (the table was redrawn). */
  fallbackFocus: () => HTMLElement | null;
  /** The server's state may differ from the table's: redraw it. */
  onStale(): void;
  onUnauthorized(): void;
  /** Saves the file (the browser's download). */
  save?: (blob: Blob, name: string) => void;
}

export function openLicenseDialog(o: LicenseDialogOptions): void {
  const { subscription } = o;
  const save = o.save ?? saveBlob;
  const titleId = uid('license-title');
  const introId = uid('license-intro');
  const fieldId = uid('license-code');
  const hintId = uid('license-hint');
  const errorId = uid('license-error');
  const formId = uid('license-form');
  const msg = messageBox();

  let busy = false;
  let stale = false;

  const title = h('h2', { id: titleId, tabindex: '-1' }, LICENSE_DIALOG_TITLE);
  const closeX = h(
    'button',
    { type: 'button', class: 'icon-button', 'aria-label': 'Cerrar' },
    h('span', { 'aria-hidden': 'true' }, '×'),
  );
  const input = h('input', {
    id: fieldId,
    name: 'installation',
    type: 'text',
    autocomplete: 'off',
    autocapitalize: 'characters',
    spellcheck: 'false',
    required: true,
    'aria-describedby': hintId,
  });
  const fieldError = h('p', { id: errorId, class: 'field-error', role: 'alert' });
  const download = h('button', { type: 'submit', class: 'primary', form: formId }, 'Descargar archivo');
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancelar');

  const form = h(
    'form',
    { id: formId, class: 'modal-body', novalidate: true },
    h(
      'p',
      { id: introId },
      `Para activar ${subscription.system_name} ${subscription.version} (número de serie `,
      h('code', { class: 'serial' }, subscription.serial),
      ') en un equipo sin conexión a internet, descarga aquí su archivo de activación. Sirve solo para la instalación cuyo código escribas.',
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: fieldId }, 'Código de instalación'),
      h('p', { id: hintId, class: 'hint' }, WHERE_THE_CODE_IS),
      input,
      fieldError,
    ),
    msg.element,
  );
  const footer = h('div', { class: 'modal-footer' }, cancel, download);

  const dialog = h(
    'dialog',
    {
      class: 'modal license-dialog',
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': titleId,
      'aria-describedby': introId,
    },
    h('div', { class: 'modal-header' }, title, closeX),
    form,
    footer,
  );

  function showFieldError(text: string): void {
    fieldError.textContent = text;
    flagField(input, errorId);
  }

  function clearFieldError(): void {
    fieldError.textContent = '';
    unflagField(input, errorId);
  }

  function setWorking(on: boolean): void {
    busy = on;
    input.disabled = on;
    cancel.disabled = on;
    closeX.disabled = on;
    setBusy(download, on, on ? 'Generando…' : undefined);
  }

  input.addEventListener('input', () => {
    if (input.getAttribute('aria-invalid') === 'true') clearFieldError();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    msg.clear();
    const checked = checkInstallation(input.value);
    if (!checked.ok) {
      showFieldError(checked.message);
      return;
    }
    clearFieldError();
    setWorking(true);
    msg.show('info', 'Estamos generando tu archivo de activación…');
    try {
      const file = await o.api.issueLicenseFile(o.token, subscription.serial, { installation: checked.code });
      setWorking(false);
      const name = licenseFileName(file, subscription.serial);
      save(licenseBlob(file), name);
      showResult(file, name, checked.code);
    } catch (e) {
      setWorking(false);
      if (isApiError(e) && e.code === 'unauthorized') {
        close();
        o.onUnauthorized();
        return;
      }
      if (isApiError(e) && (e.status === 404 || e.status === 409)) stale = true;
      if (isApiError(e) && e.code === 'invalid_request') {
        showFieldError(sentenceFor(e, 'license-file'));
        msg.clear();
        return;
      }
      msg.show('error', sentenceFor(e, 'license-file'));
      input.focus();
    }
  });

  function showResult(file: LicenseFile, name: string, code: string): void {
    const heading = h('h3', { tabindex: '-1', class: 'result-title' }, 'Tu archivo de activación está listo');
    const saved = h('p', { class: 'save-status', role: 'status', 'aria-live': 'polite' });
    const again = h('button', { type: 'button', class: 'secondary' }, 'Descargar de nuevo');
    again.setAttribute('aria-label', `Descargar de nuevo el archivo ${name}`);
    again.addEventListener('click', () => {
      save(licenseBlob(file), name);
      saved.textContent = `Descargamos otra vez ${name}.`;
    });
    const result = h(
      'div',
      { class: 'license-result' },
      heading,
      h('p', {}, 'Descargamos el archivo ', h('code', { class: 'file-name' }, name), ' en tu equipo.'),
      h('p', { class: 'how-to-load' }, HOW_TO_LOAD),
      h(
        'p',
        { class: 'valid-until' },
        `El archivo es válido hasta el ${formatDate(file.expires_on)}, solo para la instalación con el código `,
        h('code', { class: 'installation-code' }, code),
        '. Después de esa fecha, genera uno nuevo.',
      ),
      h('p', { class: 'serial-line' }, again),
      saved,
    );
    msg.clear();
    form.replaceChildren(result, msg.element);
    dialog.removeAttribute('aria-describedby'); // the introduction is gone
    const closeButton = h('button', { type: 'button', class: 'primary' }, 'Cerrar');
    closeButton.addEventListener('click', () => close());
    footer.replaceChildren(closeButton);
    heading.focus();
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

  dialog.addEventListener('close', () => {
    dialog.remove();
    if (stale) o.onStale();
    const target = o.opener.isConnected ? o.opener : o.fallbackFocus();
    target?.focus();
  });

  document.body.append(dialog);
  dialog.showModal();
  // Start at the field: typing the code is the one thing to do.
  input.focus();
}
