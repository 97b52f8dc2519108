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
  | 'logout';

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
  invalid_token: () =>
    'El enlace para restablecer tu contraseña no es válido, ya se usó o venció. Solicita uno nuevo.',
  invalid_credentials: () => 'El correo electrónico o la contraseña no son correctos.',
  unauthorized: () => SESSION_EXPIRED,
  company_mismatch: () => 'La razón social no coincide con la registrada en tu cuenta.',
  not_found: (_e, ctx) =>
    ctx === 'upgrade' || ctx === 'license-file'
      ? 'No encontramos ese número de serie en tu cuenta.'
      : 'No encontramos lo que buscas.',
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
  terms_not_accepted: () =>
    'Para actualizar debes aceptar los términos y condiciones vigentes. Cierra esta ventana, recarga la página y vuelve a intentarlo.',
  // The length is checked before sending, so the server's refusal is mostly a guessable
  // password (or the e-mail itself).
  weak_password: () =>
    'Esa contraseña es demasiado común o fácil de adivinar, o es igual a tu correo electrónico. Elige otra, por ejemplo una frase de varias palabras.',
  // Counted per account and device or network: other devices may still sign in.
  account_locked: (e) =>
    `Demasiados intentos fallidos desde este dispositivo o esta red. Podrás intentarlo de nuevo en ${inWords(e.retryAfter, 'unos minutos')}. Si no recuerdas tu contraseña, restablécela con «¿Olvidaste tu contraseña?».`,
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
