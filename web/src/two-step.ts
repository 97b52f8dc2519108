// Two-step verification (TOTP, RFC 6238) as the page shows and reads it: the secret for
// typing by hand, the codes a customer types, the recovery codes' file.

/** The base32 secret in groups of four, as authenticator apps ask for it by hand. */
export function groupSecret(secret: string): string {
  return (secret.replace(/\s+/g, '').toUpperCase().match(/.{1,4}/g) ?? []).join(' ');
}

/** Recovery codes: `XXXX-XXXX-XXXX` of the serials' alphabet (openapi.yaml `RecoveryCodes`). */
const RECOVERY = /^[0-9A-HJKMNP-TV-Z]{12}$/;

export type CodeCheck =
  | { ok: true; code: string }
  | { ok: false; message: string };

/**
 * What the customer typed as the app's code: six digits, spaces allowed ("123 456").
 * With `recovery`, a recovery code instead (case, spaces and dashes ignored, as the API
 * ignores them), sent as `XXXX-XXXX-XXXX`.
 */
export function checkCode(raw: string, recovery = false): CodeCheck {
  if (recovery) {
    const bare = raw.replace(/[\s-]+/g, '').toUpperCase();
    if (bare === '') return { ok: false, message: 'Escribe uno de tus códigos de recuperación.' };
    if (!RECOVERY.test(bare)) {
      return {
        ok: false,
        message: 'Un código de recuperación tiene 12 letras y números, por ejemplo 7KQ2-M9XD-4HRT.',
      };
    }
    return { ok: true, code: `${bare.slice(0, 4)}-${bare.slice(4, 8)}-${bare.slice(8)}` };
  }
  const digits = raw.replace(/\s+/g, '');
  if (digits === '') return { ok: false, message: 'Escribe el código de 6 dígitos de tu aplicación.' };
  if (!/^\d{6}$/.test(digits)) {
    return { ok: false, message: 'El código de tu aplicación tiene 6 dígitos, sin letras.' };
  }
  return { ok: true, code: digits };
}

export const RECOVERY_FILE_NAME = 'codigos-de-recuperacion.txt';

/** The downloadable list of recovery codes, with what they are for. */
export function recoveryCodesText(codes: readonly string[], email: string, vendor: string, createdOn: string): string {
  return [
    `${vendor} · Mi cuenta: códigos de recuperación de ${email}`,
    `Generados el ${createdOn}.`,
    '',
    'Cada código sirve una sola vez para entrar sin tu aplicación de autenticación',
    '(o para desactivar la verificación en dos pasos). Guárdalos en un lugar seguro.',
    '',
    ...codes,
    '',
  ].join('\n');
}
