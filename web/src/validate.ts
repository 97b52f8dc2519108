// Checks the page makes before sending a form (the server checks again).
import { PASSWORD_MISMATCH } from './messages.ts';

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

/** Length in characters (code points), not UTF-16 units. */
export function charCount(s: string): number {
  return [...s].length;
}

export interface FieldError {
  field: 'password' | 'confirm';
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

/** A light look at an e-mail address: something@something. */
export function looksLikeEmail(s: string): boolean {
  return /^[^\s@]+@[^\s@]+$/.test(s.trim());
}
