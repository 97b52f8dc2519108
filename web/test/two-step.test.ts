import assert from 'node:assert/strict';
import { test } from 'node:test';
import decodeQR from 'qr/decode.js';
import { describeAgent } from '../src/agent.ts';
import { qrModules } from '../src/qr.ts';
import { checkCode, groupSecret, recoveryCodesText } from '../src/two-step.ts';

test('the secret in groups of four, for typing by hand', () => {
  assert.equal(groupSecret('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'), 'JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
  assert.equal(groupSecret(' jbsw y3dp ehp '), 'JBSW Y3DP EHP');
  assert.equal(groupSecret(''), '');
});

test("the app's code: six digits, spaces allowed", () => {
  assert.deepEqual(checkCode('123456'), { ok: true, code: '123456' });
  assert.deepEqual(checkCode(' 123 456 '), { ok: true, code: '123456' });
  for (const bad of ['12345', '1234567', '12a456', '１２３４５６']) {
    const r = checkCode(bad);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.match(r.message, /6 dígitos/);
  }
  const empty = checkCode('   ');
  assert.ok(!empty.ok && /Escribe el código/.test(empty.message));
});

test('a recovery code: case, spaces and dashes ignored, sent as XXXX-XXXX-XXXX', () => {
  assert.deepEqual(checkCode('7kq2-m9xd-4hrt', true), { ok: true, code: '7KQ2-M9XD-4HRT' });
  assert.deepEqual(checkCode(' 7KQ2 M9XD 4HRT ', true), { ok: true, code: '7KQ2-M9XD-4HRT' });
  assert.deepEqual(checkCode('7KQ2M9XD4HRT', true), { ok: true, code: '7KQ2-M9XD-4HRT' });
  // Letters outside the serials' alphabet (I, L, O, U), or the wrong length.
  for (const bad of ['7KQ2-M9XD-4HRI', '7KQ2-M9XD-4HR', '7KQ2-M9XD-4HRTT', '123456']) {
    assert.equal(checkCode(bad, true).ok, false, bad);
  }
  assert.equal(checkCode('', true).ok, false);
});

test('the recovery codes file lists every code, one a line, and says what they are', () => {
  const codes = Array.from({ length: 10 }, (_, i) => `AAAA-BBBB-CC${String(i).padStart(2, '0')}`);
  const text = recoveryCodesText(codes, 'ana@example.com', 'Aspel', '02/12/2026, 09:05');
  const lines = text.split('\n');
  for (const c of codes) assert.ok(lines.includes(c), c);
  assert.match(text, /ana@example\.com/);
  assert.match(text, /una sola vez/);
  assert.ok(text.endsWith('\n'));
});

test('the QR code of an otpauth URI reads back as the same URI', () => {
  const uri =
    'otpauth://totp/Aspel:ana%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Aspel&algorithm=SHA1&digits=6&period=30';
  const modules = qrModules(uri);
  assert.ok(modules.length >= 21 + 8 && modules.every((row) => row.length === modules.length));
  assert.ok(modules[0]!.every((dark) => !dark) && modules.at(-1)!.every((dark) => !dark), 'no light margin');
  // Drawn as a scanner sees it: 4 pixels a module.
  const scale = 4;
  const size = modules.length * scale;
  const data = new Uint8Array(size * size * 4).fill(255);
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < scale; dy += 1) {
        for (let dx = 0; dx < scale; dx += 1) {
          const i = ((y * scale + dy) * size + x * scale + dx) * 4;
          data[i] = data[i + 1] = data[i + 2] = 0;
        }
      }
    }),
  );
  assert.equal(decodeQR({ width: size, height: size, data }), uri);
});

test("a session's browser and system in words", () => {
  const cases: Array<[string, string]> = [
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
      'Chrome en Linux',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      'Edge en Windows',
    ],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'Safari en macOS'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'Safari en iOS'],
    ['Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0', 'Firefox en Android'],
    ['curl/8.5.0', 'curl/8.5.0'],
    ['', 'Navegador desconocido'],
  ];
  for (const [ua, words] of cases) assert.equal(describeAgent(ua), words, ua);
  assert.ok(describeAgent('x'.repeat(300)).length <= 40);
});
