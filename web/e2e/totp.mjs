// TOTP codes (RFC 6238: HMAC-SHA-1, 30 s, 6 digits) computed here with Node's crypto, an
// implementation of its own, to check the portal's against; and the QR code the page
// draws, read back from a screenshot with the decoder of the `qr` package.
import { createHmac } from 'node:crypto';
import decodeQR from 'qr/decode.js';

const STEP_SECONDS = 30;

/** RFC 4648 base32 (no padding needed) → bytes. */
export function base32Bytes(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The time step of an instant (ms). */
export function stepOf(ms = Date.now()) {
  return Math.floor(ms / 1000 / STEP_SECONDS);
}

/** The code of `key` (bytes) at time step `step`, `digits` long (RFC 4226's truncation). */
export function hotp(key, step, digits = 6) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(value).padStart(digits, '0');
}

// RFC 6238 appendix B, SHA-1: T = 59 s gives 94287082, T = 1111111109 s gives 07081804.
const RFC_KEY = Buffer.from('12345678901234567890');
if (hotp(RFC_KEY, stepOf(59_000), 8) !== '94287082' || hotp(RFC_KEY, stepOf(1_111_111_109_000), 8) !== '07081804') {
  throw new Error('the test TOTP does not match RFC 6238');
}

/** The current code of a base32 secret, and its step. */
export function totpNow(secret) {
  const step = stepOf();
  return { step, code: hotp(base32Bytes(secret), step) };
}

/** The code of a base32 secret at time step `step`. */
export function totpAt(secret, step) {
  return hotp(base32Bytes(secret), step);
}

/**
 * A code of a later step than `usedStep` (a code is accepted once, and no earlier one
 * after it): waits for the next 30 s window when needed.
 */
export async function totpAfter(secret, usedStep) {
  for (;;) {
    const now = totpNow(secret);
    if (now.step > usedStep) return now;
    const wait = (now.step + 1) * STEP_SECONDS * 1000 - Date.now() + 200;
    await new Promise((r) => setTimeout(r, Math.max(wait, 50)));
  }
}

/** The text of the QR code drawn in `locator` (an element of page `p`), as a camera reads it. */
export async function readQr(p, locator) {
  const png = await locator.screenshot();
  const image = await p.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const { data } = ctx.getImageData(0, 0, img.width, img.height);
    return { width: img.width, height: img.height, data: Array.from(data) };
  }, png.toString('base64'));
  return decodeQR({ width: image.width, height: image.height, data: Uint8Array.from(image.data) });
}
