// Checks the page makes before sending a form (the server checks again).
import { PASSWORD_MISMATCH } from './messages.ts';

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

/** Length in characters (code points), not UTF-16 units. */
export function charCount(s: string): number {
  return [...s].length;
}

export interface FieldError {
  field: 'current' | 'password' | 'confirm' | 'email';
  message: string;
}

/** The new-password pair of "Restablecer contraseña"; null when it can be sent. */
export function checkNewPassword(password: string, confirm: string, email?: string): FieldError | null {
  const n = charCount(password);
  if (n === 0) return { field: 'password', message: 'Escribe tu nueva contraseña.' };
  if (n < PASSWORD_MIN) {
    return {
      field: 'password',
      message: `Tu nueva contraseña es muy corta: debe tener al menos ${PASSWORD_MIN} caracteres.`,
    };
  }
  if (n > PASSWORD_MAX) {
    return {
      field: 'password',
      message: `Tu nueva contraseña es muy larga: debe tener como máximo ${PASSWORD_MAX} caracteres.`,
    };
  }
  if (email && password.trim().toLowerCase() === email.trim().toLowerCase()) {
    return { field: 'password', message: 'Tu nueva contraseña no puede ser igual a tu correo electrónico.' };
  }
  if (password !== confirm) return { field: 'confirm', message: PASSWORD_MISMATCH };
  return null;
}

/**
 * "Cambiar contraseña" of Mi cuenta → Seguridad: the current password, then the new pair
 * as "Restablecer contraseña" checks it, and a new password that differs from the current.
 */
export function checkPasswordChange(
  current: string,
  password: string,
  confirm: string,
  email?: string,
): FieldError | null {
  if (current === '') return { field: 'current', message: 'Escribe tu contraseña actual.' };
  const problem = checkNewPassword(password, confirm, email);
  if (problem) return problem;
  if (password === current) {
    return { field: 'password', message: 'Tu nueva contraseña debe ser distinta de la actual.' };
  }
  return null;
}

/** "Cambiar correo electrónico": an address that is not the current one, and the password. */
export function checkEmailChange(newEmail: string, password: string, currentEmail: string): FieldError | null {
  if (!looksLikeEmail(newEmail)) {
    return { field: 'email', message: 'Escribe tu nuevo correo electrónico, por ejemplo nombre@empresa.com.' };
  }
  if (newEmail.trim().toLowerCase() === currentEmail.trim().toLowerCase()) {
    return { field: 'email', message: 'Ese ya es tu correo electrónico. Escribe la nueva dirección.' };
  }
  if (password === '') return { field: 'current', message: 'Escribe tu contraseña para confirmar que eres tú.' };
  return null;
}

/** A light look at an e-mail address: something@something. */
export function looksLikeEmail(s: string): boolean {
  return /^[^\s@]+@[^\s@]+$/.test(s.trim());
}

/** The installation code of "Archivo de activación sin conexión", in characters once trimmed. */
export const INSTALLATION_MAX = 128;

export type InstallationCheck = { ok: true; code: string } | { ok: false; message: string };

/**
 * The code the desktop program shows, as the page sends it (trimmed), or why it cannot be
 * sent: empty, over 128 characters, or with a line break, a tab or another control
 * character (the API's rule for `installation`).
 */
export function checkInstallation(raw: string): InstallationCheck {
  const code = raw.trim();
  if (code === '') {
    return { ok: false, message: 'Escribe el código de instalación que muestra tu sistema.' };
  }
  if (charCount(code) > INSTALLATION_MAX) {
    return {
      ok: false,
      message: `El código de instalación es demasiado largo: tiene como máximo ${INSTALLATION_MAX} caracteres. Cópialo de nuevo del asistente de activación.`,
    };
  }
  if (/\p{Cc}/u.test(code)) {
    return {
      ok: false,
      message:
        'El código de instalación no puede tener saltos de línea ni tabuladores. Cópialo de nuevo del asistente de activación.',
    };
  }
  return { ok: true, code };
}
