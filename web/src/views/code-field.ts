// The field of a two-step verification code: the app's six digits, or (when allowed) a
// recovery code, with a button that switches between the two.
import { h, uid } from '../dom.ts';
import { checkCode, type CodeCheck } from '../two-step.ts';

export interface CodeField {
  element: HTMLElement;
  input: HTMLInputElement;
  /** The code as it is sent, or why it cannot be. */
  read(): CodeCheck;
  /** Whether the field takes a recovery code now. */
  recovery(): boolean;
  clear(): void;
}

const APP = {
  label: 'Código de 6 dígitos de tu aplicación',
  hint: 'Ábrela y escribe el código que muestra para esta cuenta; cambia cada 30 segundos.',
  switchTo: 'Usar un código de recuperación',
};
const RECOVERY = {
  label: 'Código de recuperación',
  hint: 'Uno de los 10 códigos que guardaste al activar la verificación en dos pasos; cada uno sirve una sola vez.',
  switchTo: 'Usar el código de mi aplicación',
};

export function codeField(options: { allowRecovery: boolean }): CodeField {
  const inputId = uid('code');
  const hintId = uid('code-hint');
  const label = h('label', { for: inputId });
  const hint = h('p', { id: hintId, class: 'hint' });
  const input = h('input', {
    id: inputId,
    name: 'code',
    type: 'text',
    autocomplete: 'one-time-code',
    spellcheck: 'false',
    autocapitalize: 'characters',
    'aria-describedby': hintId,
    required: true,
  });
  let recovery = false;
  const toggle = h('button', { type: 'button', class: 'link-button' });

  function show(): void {
    const text = recovery ? RECOVERY : APP;
    label.textContent = text.label;
    hint.textContent = text.hint;
    toggle.textContent = text.switchTo;
    input.inputMode = recovery ? 'text' : 'numeric';
    input.maxLength = recovery ? 20 : 7;
  }
  toggle.addEventListener('click', () => {
    recovery = !recovery;
    input.value = '';
    input.removeAttribute('aria-invalid');
    show();
    input.focus();
  });
  show();

  const element = h(
    'div',
    { class: 'field' },
    label,
    hint,
    input,
    options.allowRecovery ? h('p', { class: 'aside' }, toggle) : null,
  );
  return {
    element,
    input,
    read: () => checkCode(input.value, recovery),
    recovery: () => recovery,
    clear() {
      input.value = '';
    },
  };
}
