// Every error the page can show, as one plain Spanish sentence. The API's problem
// `code` (schema `Problem` in openapi.yaml) is the key; the raw body is never shown.
import { formatDuration } from './format.ts';

/** Where the error happened: a few codes read better with the screen in mind. */
export type ErrorContext =
  | 'login'
  | 'forgot'
  | 'reset'
  | 'subscriptions'
  | 'upgrade'
  | 'license-file'
  | 'logout'
  | 'invitation'
  | 'mfa'
  | 'password-change'
  | 'sessions'
  | 'two-step'
  | 'email-change'
  | 'email-confirm';

export interface ErrorLike {
  code: string;
  status?: number;
  retryAfter?: number | null;
}

/** A 401 on a signed-in call: the session ended (30 minutes idle, 12 hours, or logout). */
export const SESSION_EXPIRED = 'Tu sesión expiró o se cerró por inactividad. Inicia sesión de nuevo.';
export const RESET_REQUESTED =
  'Si la cuenta existe, te enviamos un correo con un enlace para restablecer tu contraseña. El enlace vence en 30 minutos.';
/** Shown before the customer types; the same rules as `PASSWORD_MIN`/`PASSWORD_MAX` of validate.ts. */
export const PASSWORD_RULE =
  'Tu nueva contraseña debe tener entre 12 y 128 caracteres, no puede ser igual a tu correo electrónico y no puede ser una contraseña común o fácil de adivinar. Te recomendamos una frase de varias palabras.';
export const PASSWORD_MISMATCH = 'Las contraseñas no coinciden. Escríbela igual en los dos campos.';
export const PASSWORD_CHANGED =
  'Tu contraseña se cambió. Ya puedes iniciar sesión con tu nueva contraseña.';
/** The invitation's version of PASSWORD_CHANGED (the same page, `?invitacion=1`). */
export const PASSWORD_SET = 'Tu contraseña quedó definida. Ya puedes iniciar sesión con ella.';
/** "Mi cuenta → Seguridad": the password changed while signed in. */
export const PASSWORD_CHANGED_HERE =
  'Tu contraseña se cambió. Cerramos tus demás sesiones y te enviamos un correo de aviso.';
export const EMAIL_CHANGE_SENT = (address: string) =>
  `Revisa tu correo: enviamos a ${address} un enlace para confirmar el cambio. Vence en 60 minutos. Tu correo actual no cambia hasta que lo confirmes.`;
export const EMAIL_CHANGED =
  'Tu correo electrónico se cambió. Por seguridad cerramos todas tus sesiones: inicia sesión con tu nuevo correo.';

const INVALID_REQUEST: Record<ErrorContext, string> = {
  login: 'Revisa que tu correo electrónico y tu contraseña estén bien escritos.',
  forgot: 'Escribe un correo electrónico válido, por ejemplo nombre@empresa.com.',
  reset: 'No pudimos procesar tu nueva contraseña. Revisa lo que escribiste e intenta de nuevo.',
  subscriptions: 'No pudimos consultar tus servicios. Recarga la página e intenta de nuevo.',
  upgrade:
    'No pudimos procesar la solicitud de actualización. Recarga la página e intenta de nuevo.',
  'license-file':
    'Revisa el código de instalación: debe tener entre 1 y 128 caracteres, sin saltos de línea ni tabuladores.',
  logout: 'No pudimos cerrar tu sesión en el servidor.',
  invitation: 'No pudimos procesar tu contraseña. Revisa lo que escribiste e intenta de nuevo.',
  mfa: 'Revisa el código que escribiste e intenta de nuevo.',
  'password-change': 'No pudimos procesar el cambio de contraseña. Revisa lo que escribiste e intenta de nuevo.',
  sessions: 'No pudimos consultar tus sesiones. Recarga la página e intenta de nuevo.',
  'two-step': 'Revisa el código que escribiste e intenta de nuevo.',
  'email-change': 'Escribe un correo electrónico válido y distinto del actual, por ejemplo nombre@empresa.com.',
  'email-confirm': 'El enlace para confirmar tu nuevo correo no es válido. Ábrelo de nuevo desde el correo.',
};

const SERVER_ERROR = 'Ocurrió un error en el servidor. Intenta de nuevo más tarde.';

function inWords(retryAfter: number | null | undefined, fallback: string): string {
  return typeof retryAfter === 'number' && retryAfter > 0 ? formatDuration(retryAfter) : fallback;
}

/** Sentences by code. */
const SENTENCES: Record<string, (e: ErrorLike, ctx?: ErrorContext) => string> = {
  invalid_request: (_e, ctx) => INVALID_REQUEST[ctx ?? 'subscriptions'],
  payload_too_large: () =>
    'Lo que escribiste es demasiado largo. Revísalo e intenta de nuevo.',
  // The page always sends JSON: seeing this means a bug or something in between.
  unsupported_media_type: () =>
    'El servidor no pudo leer la solicitud. Recarga la página e intenta de nuevo.',
  method_not_allowed: () =>
    'Esta operación no está disponible. Recarga la página e intenta de nuevo.',
  invalid_token: (_e, ctx) => {
    if (ctx === 'mfa') return 'Pasaron más de 5 minutos desde que escribiste tu contraseña. Inicia sesión de nuevo.';
    if (ctx === 'invitation') {
      return 'El enlace de tu invitación no es válido, ya se usó o venció (dura 7 días). Pide uno nuevo con «¿Olvidaste tu contraseña?».';
    }
    if (ctx === 'email-confirm') {
      return 'El enlace para confirmar tu nuevo correo no es válido, ya se usó, venció o lo reemplazó una solicitud más reciente. Solicita el cambio de nuevo.';
    }
    return 'El enlace para restablecer tu contraseña no es válido, ya se usó o venció. Solicita uno nuevo.';
  },
  invalid_credentials: (_e, ctx) =>
    ctx === 'password-change' || ctx === 'email-change'
      ? 'Tu contraseña actual no es correcta.'
      : 'El correo electrónico o la contraseña no son correctos.',
  invalid_code: () =>
    'El código no es correcto o ya se usó. Escribe el código que muestra ahora tu aplicación, o un código de recuperación que no hayas usado.',
  unauthorized: () => SESSION_EXPIRED,
  company_mismatch: () => 'La razón social no coincide con la registrada en tu cuenta.',
  not_found: (_e, ctx) => {
    if (ctx === 'upgrade' || ctx === 'license-file') return 'No encontramos ese número de serie en tu cuenta.';
    if (ctx === 'sessions') return 'Esa sesión ya estaba cerrada.';
    return 'No encontramos lo que buscas.';
  },
  no_upgrade_available: () =>
    'Tu sistema ya tiene la versión más reciente: no hay una actualización disponible.',
  purchase_required: () =>
    'Las licencias no se actualizan sin costo. Para obtener la nueva versión, cómprala con tu distribuidor.',
  subscription_expired: (_e, ctx) =>
    ctx === 'license-file'
      ? 'Tu suscripción está vencida. Renuévala para poder generar su archivo de activación.'
      : 'Tu suscripción está vencida. Renuévala para poder actualizar tu sistema.',
  not_active: (_e, ctx) =>
    ctx === 'license-file'
      ? 'Este número de serie ya está inactivo: no se puede generar su archivo de activación.'
      : 'Este número de serie ya está inactivo y no puede actualizarse.',
  mfa_already_enabled: () => 'La verificación en dos pasos ya está activa en tu cuenta.',
  mfa_not_enabled: () => 'La verificación en dos pasos no está activa en tu cuenta.',
  mfa_not_started: () =>
    'Primero pide un código QR nuevo con «Activar la verificación en dos pasos» y escanéalo con tu aplicación.',
  // Told only to whoever holds the new address's mailbox (the confirmation).
  email_taken: () =>
    'Ese correo electrónico ya no puede usarse para tu cuenta porque está en uso. Solicita el cambio con otra dirección.',
  terms_not_accepted: () =>
    'Para actualizar debes aceptar los términos y condiciones vigentes. Cierra esta ventana, recarga la página y vuelve a intentarlo.',
  // The length is checked before sending, so the server's refusal is mostly a guessable
  // password (or the e-mail itself).
  weak_password: (_e, ctx) =>
    ctx === 'password-change'
      ? 'Esa contraseña es demasiado común o fácil de adivinar, o es igual a tu correo electrónico o a tu contraseña actual. Elige otra, por ejemplo una frase de varias palabras.'
      : 'Esa contraseña es demasiado común o fácil de adivinar, o es igual a tu correo electrónico. Elige otra, por ejemplo una frase de varias palabras.',
  // Counted per account and device or network: other devices may still sign in.
  account_locked: (e, ctx) => {
    const wait = `Demasiados intentos fallidos desde este dispositivo o esta red. Podrás intentarlo de nuevo en ${inWords(e.retryAfter, 'unos minutos')}.`;
    if (ctx === 'login' || ctx === undefined) {
      return `${wait} Si no recuerdas tu contraseña, restablécela con «¿Olvidaste tu contraseña?».`;
    }
    return wait;
  },
  // Validation only (the desktop program's route); listed so every code has its sentence.
  too_many_attempts: (e) =>
    `Demasiados intentos con un nombre de empresa incorrecto. Intenta de nuevo en ${inWords(e.retryAfter, 'unos minutos')}.`,
  unavailable: (e) =>
    `El servicio no está disponible en este momento. Intenta de nuevo en ${inWords(e.retryAfter, 'unos minutos')}.`,
  internal_error: () => SERVER_ERROR,
  network: () =>
    'No pudimos conectarnos con el servidor. Revisa tu conexión a internet e intenta de nuevo.',
  timeout: () => 'El servidor tardó demasiado en responder. Intenta de nuevo en unos momentos.',
};

/** Whether the page has its own sentence for this code. */
export function hasSentence(code: string): boolean {
  return Object.hasOwn(SENTENCES, code);
}

/** The sentence for a failed call. Unknown codes fall back on the HTTP status. */
export function errorSentence(error: ErrorLike, context?: ErrorContext): string {
  const byCode = Object.hasOwn(SENTENCES, error.code) ? SENTENCES[error.code] : undefined;
  if (byCode) return byCode(error, context);
  const status = error.status ?? 0;
  if (status === 429 || status === 503) {
    return `El servicio está ocupado. Intenta de nuevo en ${inWords(error.retryAfter, 'unos minutos')}.`;
  }
  if (status >= 500) return SERVER_ERROR;
  return 'Ocurrió un error inesperado. Recarga la página e intenta de nuevo.';
}

/** Sentence for any thrown value (a bug must still read as a sentence). */
export function sentenceFor(error: unknown, context?: ErrorContext): string {
  if (typeof error === 'object' && error !== null && typeof (error as ErrorLike).code === 'string') {
    return errorSentence(error as ErrorLike, context);
  }
  return 'Ocurrió un error inesperado. Recarga la página e intenta de nuevo.';
}
