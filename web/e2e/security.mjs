// Browser tests of "Mi cuenta → Seguridad" and of the login's code step, on the first
// account (DEMO_EMAIL), registered by portal.test.mjs after every other test of that
// account (they change its password and its e-mail). In order:
//   6. two-step verification on: the QR code read back, a first code, the recovery codes;
//   7. logout, a login with the app's code, another with a recovery code (spent once);
//   8. the sessions: this one marked, another one ended, then all the others;
//   9. two-step verification off with a recovery code, then the password changed;
//  10. the e-mail changed through the link mailed to the new address.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { DEMO_EMAIL, DEMO_PASSWORD, WEB_URL } from './env.mjs';
import {
  focused,
  gotoLogin,
  linkFrom,
  mailTo,
  screenshot,
  sentMail,
  submitLogin,
  tableRows,
  waitForMail,
  waitForServices,
} from './helpers.mjs';
import { readQr, totpAfter, totpAt, totpNow } from './totp.mjs';

const APP_CODE = 'Código de 6 dígitos de tu aplicación';
const RECOVERY_CODE = 'Código de recuperación';
const RECOVERY = /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;
const WRONG_CODE = 'El código no es correcto o ya se usó.';
const SESSION_ENDED = 'Tu sesión expiró o se cerró por inactividad. Inicia sesión de nuevo.';

/** What the tests hand on to the next ones. */
const state = {
  secret: '',
  /** The time step of the last app code the portal accepted. */
  usedStep: 0,
  recoveryCodes: [],
  password: DEMO_PASSWORD,
  /** The tab signed in with the app's code (test 7) and the one with a recovery code. */
  main: null,
  other: null,
};

async function openSecurity(p) {
  await p.getByRole('navigation', { name: 'Mi cuenta' }).getByRole('link', { name: 'Seguridad' }).click();
  await p.getByRole('heading', { level: 1, name: 'Seguridad' }).waitFor();
  assert.ok(p.url().endsWith('/mi-cuenta/seguridad'), p.url());
  assert.equal(
    await p.getByRole('link', { name: 'Seguridad' }).getAttribute('aria-current'),
    'page',
  );
  await p.locator('.sessions:not([aria-busy])').waitFor();
}

function part(p, name) {
  return p.getByRole('region', { name });
}

/** The page at `width` does not scroll sideways, and every part of it fits. */
async function assertFits(p, width) {
  await p.setViewportSize({ width, height: 812 });
  const fit = await p.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    view: window.innerWidth,
    outside: [...document.querySelectorAll('main *')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && (r.left < -1 || r.right > window.innerWidth + 1);
      })
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`)
      .slice(0, 5),
  }));
  assert.ok(fit.page <= fit.view, `the page is ${fit.page}px wide at ${fit.view}px`);
  assert.deepEqual(fit.outside, [], `cut off at ${width}px`);
}

/** Logs in with the password and waits for the code step. */
async function passwordThenCodeStep(p, email, password) {
  await gotoLogin(p);
  await submitLogin(p, email, password);
  await p.getByRole('heading', { level: 1, name: 'Verificación en dos pasos' }).waitFor();
  const field = p.getByLabel(APP_CODE);
  assert.ok(await field.evaluate((el) => el === document.activeElement), 'focus is not on the code');
  return field;
}

export function securityTests({ e2e, freshPage, newTab, assertCleanPage }) {
  e2e('6. two-step verification on: the QR code, a first code, the recovery codes shown once', async () => {
    const p = await freshPage();
    await gotoLogin(p);
    await submitLogin(p, DEMO_EMAIL, DEMO_PASSWORD);
    await waitForServices(p);
    await openSecurity(p);
    await assertCleanPage(p);
    await screenshot(p, 'seguridad', { committed: true, fullPage: true });

    const twoStep = part(p, 'Verificación en dos pasos');
    await twoStep.getByText('La verificación en dos pasos no está activa.').waitFor();
    await twoStep.getByRole('button', { name: 'Activar la verificación en dos pasos' }).click();
    const qr = twoStep.getByRole('img', { name: /^Código QR/ });
    await qr.waitFor();

    // The QR code, read as a phone's camera reads it, is the authenticator's URI.
    const uri = new URL(await readQr(p, qr));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.ok(decodeURIComponent(uri.pathname).includes(DEMO_EMAIL), uri.href);
    assert.equal(uri.searchParams.get('digits') ?? '6', '6');
    assert.equal(uri.searchParams.get('period') ?? '30', '30');
    assert.equal((uri.searchParams.get('algorithm') ?? 'SHA1').toUpperCase(), 'SHA1');
    const secret = uri.searchParams.get('secret');
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    // The same secret as text, for typing by hand (in groups of four).
    const shown = await twoStep.locator('code.secret').innerText();
    assert.equal(shown.replace(/\s+/g, ''), secret);
    await twoStep.getByRole('button', { name: 'Copiar clave' }).click();
    await twoStep.getByText('Clave copiada.').waitFor();
    assert.equal(await p.evaluate(() => navigator.clipboard.readText()), secret);
    await assertFits(p, 375);
    await screenshot(p, 'verificacion-dos-pasos', { committed: true, element: twoStep });
    await p.setViewportSize({ width: 1280, height: 860 });

    // A wrong code is refused with a sentence; the app's current one turns it on.
    const field = twoStep.getByLabel(APP_CODE);
    const now = totpNow(secret);
    await field.fill(now.code === '000000' ? '111111' : '000000');
    await twoStep.getByRole('button', { name: 'Confirmar y activar' }).click();
    await twoStep.getByText(WRONG_CODE).waitFor();
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    const first = totpNow(secret);
    const mailsBefore = (await sentMail()).length;
    await field.fill(first.code);
    await twoStep.getByRole('button', { name: 'Confirmar y activar' }).click();

    const list = twoStep.locator('.recovery-codes li');
    await list.first().waitFor();
    await twoStep.getByText('La verificación en dos pasos quedó activa.').waitFor();
    const codes = (await list.allInnerTexts()).map((c) => c.trim());
    assert.equal(codes.length, 10);
    for (const c of codes) assert.match(c, RECOVERY);
    assert.equal(new Set(codes).size, 10, 'a recovery code shows twice');
    assert.equal((await focused(p)).text, 'Tus códigos de recuperación', 'focus did not move to the codes');
    // The owner is told, and the mail holds no recovery code.
    const told = await waitForMail((m) => mailTo(DEMO_EMAIL)(m) && /^Activaste la verificación en dos pasos/.test(m.subject), {
      after: mailsBefore,
    });
    for (const c of codes) assert.ok(!told.body.includes(c), 'a recovery code in the mail');

    const downloaded = p.waitForEvent('download');
    await twoStep.getByRole('button', { name: 'Descargar los códigos (.txt)' }).click();
    const download = await downloaded;
    assert.equal(download.suggestedFilename(), 'codigos-de-recuperacion.txt');
    const file = (await readFile(await download.path(), 'utf8')).split('\n');
    for (const c of codes) assert.ok(file.includes(c), `${c} is not in the file`);
    await twoStep.getByRole('button', { name: 'Copiar los códigos' }).click();
    await twoStep.getByText('Códigos copiados.').waitFor();
    assert.deepEqual((await p.evaluate(() => navigator.clipboard.readText())).split('\n'), codes);
    await assertCleanPage(p);
    await screenshot(p, '6-codigos-de-recuperacion', { fullPage: true });

    await twoStep.getByRole('button', { name: 'Ya los guardé' }).click();
    await twoStep.getByText('La verificación en dos pasos está activa').waitFor();
    assert.equal(await list.count(), 0, 'the recovery codes stay on screen');
    // Shown once: a new visit of the page shows neither the codes nor the secret.
    await p.reload();
    await p.getByRole('heading', { level: 1, name: 'Seguridad' }).waitFor();
    await part(p, 'Verificación en dos pasos').getByText('La verificación en dos pasos está activa').waitFor();
    const text = await p.locator('main').innerText();
    assert.ok(!text.includes(codes[0]) && !text.includes(secret), 'a code or the secret shows again');

    Object.assign(state, { secret, usedStep: first.step, recoveryCodes: codes });
  });

  e2e('7. logout, then the login asks for the code; a recovery code works once', async () => {
    assert.ok(state.secret, 'two-step verification was not turned on by test 6');
    const p = await freshPage();
    await gotoLogin(p);
    const field = await passwordThenCodeStep(p, DEMO_EMAIL, DEMO_PASSWORD);
    await screenshot(p, 'codigo-al-iniciar-sesion', { committed: true });
    await field.fill('12345');
    await p.getByRole('button', { name: 'Verificar' }).click();
    await p.getByText('El código de tu aplicación tiene 6 dígitos, sin letras.').waitFor();
    // The code that turned it on, again: refused (a code is accepted once).
    await field.fill(totpAt(state.secret, state.usedStep));
    await p.getByRole('button', { name: 'Verificar' }).click();
    await p.getByText(WRONG_CODE).waitFor();
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    await assertCleanPage(p);

    // The next code, from the keyboard: the refused code left the focus in the field.
    const next = await totpAfter(state.secret, state.usedStep);
    const request = p.waitForRequest((r) => r.url().endsWith('/login/mfa') && r.method() === 'POST');
    assert.ok(await field.evaluate((el) => el === document.activeElement), 'focus left the code field');
    await p.keyboard.type(next.code);
    await p.keyboard.press('Enter');
    const body = (await request).postDataJSON();
    assert.equal(body.code, next.code);
    assert.equal(typeof body.mfa_token, 'string');
    await waitForServices(p);
    state.usedStep = next.step;
    const stored = JSON.parse(await p.evaluate(() => sessionStorage.getItem('portal.session')));
    assert.equal(stored.twoStep, true);
    state.main = p;

    // Another tab, with a recovery code typed loosely (lower case, no dashes).
    const q = await newTab();
    await passwordThenCodeStep(q, DEMO_EMAIL, DEMO_PASSWORD);
    await q.getByRole('button', { name: 'Usar un código de recuperación' }).click();
    const recovery = q.getByLabel(RECOVERY_CODE);
    assert.ok(await recovery.evaluate((el) => el === document.activeElement));
    await recovery.fill(state.recoveryCodes[0].replace(/-/g, '').toLowerCase());
    await q.getByRole('button', { name: 'Verificar' }).click();
    await waitForServices(q);
    state.other = q;

    // The same recovery code again: spent.
    const r = await newTab();
    await passwordThenCodeStep(r, DEMO_EMAIL, DEMO_PASSWORD);
    await r.getByRole('button', { name: 'Usar un código de recuperación' }).click();
    await r.getByLabel(RECOVERY_CODE).fill(state.recoveryCodes[0]);
    await r.getByRole('button', { name: 'Verificar' }).click();
    await r.getByText(WRONG_CODE).waitFor();
    // "Volver" brings the password back.
    await r.getByRole('button', { name: 'Volver' }).click();
    await r.getByRole('heading', { level: 1, name: 'Iniciar sesión' }).waitFor();
    await assertCleanPage(r);
    await r.close();
  });

  e2e('8. sessions: this one marked, another one ended, then all the others', async () => {
    const { main: p, other: q } = state;
    assert.ok(p && q, 'test 7 left no two signed-in tabs');
    // The other tab's session, as it sees itself.
    await openSecurity(q);
    const mine = q.locator('.session[data-current="true"]');
    assert.equal(await mine.count(), 1);
    await mine.getByText('Esta sesión', { exact: true }).waitFor();
    const qId = await mine.getAttribute('data-session-id');

    await openSecurity(p);
    const sessions = part(p, 'Sesiones abiertas');
    const items = sessions.locator('.session');
    assert.ok((await items.count()) >= 3, 'earlier logins of this account are not listed');
    const current = sessions.locator('.session[data-current="true"]');
    assert.equal(await current.count(), 1);
    assert.notEqual(await current.getAttribute('data-session-id'), qId);
    const info = await current.locator('dl').innerText();
    assert.match(info, /Inicio de sesión\s+\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}/);
    assert.match(info, /Último uso\s+\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}/);
    assert.match(info, /Dirección\s+\S+/);
    assert.ok(info.includes(await p.evaluate(() => navigator.userAgent)), 'the user agent is not shown');
    assert.equal(await current.getByRole('button').innerText(), 'Cerrar esta sesión');
    // Nothing that looks like a token: the ids are not the stored bearer.
    const token = JSON.parse(await p.evaluate(() => sessionStorage.getItem('portal.session'))).token;
    assert.ok(!(await p.locator('main').innerHTML()).includes(token), 'the token is on the page');
    await assertFits(p, 375);
    await screenshot(p, '8-sesiones-375', { fullPage: true });
    await p.setViewportSize({ width: 1280, height: 860 });

    // End the other tab's session with its own button, from the keyboard.
    const other = sessions.locator(`.session[data-session-id="${qId}"]`);
    const button = other.getByRole('button', { name: /^Cerrar la sesión de / });
    await button.focus();
    await p.keyboard.press('Enter');
    await sessions.getByText(/^Cerraste la sesión de .+ iniciada el \d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}\.$/).waitFor();
    await other.waitFor({ state: 'detached' });
    // That tab is signed out on its next call.
    await q.getByRole('navigation', { name: 'Mi cuenta' }).getByRole('link', { name: 'Mis servicios' }).click();
    await q.getByText(SESSION_ENDED).waitFor();
    await q.getByRole('heading', { level: 1, name: 'Iniciar sesión' }).waitFor();

    // All the others at once: this one is left alone.
    await sessions.getByRole('button', { name: 'Cerrar todas las demás sesiones' }).click();
    await sessions.getByText('Cerraste todas tus demás sesiones. Solo queda abierta esta.').waitFor();
    await p.waitForFunction(() => document.querySelectorAll('.session').length === 1);
    assert.equal(await sessions.locator('.session[data-current="true"]').count(), 1);
    assert.ok(await sessions.getByRole('button', { name: 'Cerrar todas las demás sesiones' }).isHidden());
    await assertCleanPage(p);
    await q.close();
  });

  e2e('9. two-step verification off with a recovery code; then the password changed', async () => {
    const p = state.main;
    assert.ok(p, 'test 7 left no signed-in tab');
    await openSecurity(p);
    const twoStep = part(p, 'Verificación en dos pasos');
    await twoStep.getByRole('button', { name: 'Desactivar la verificación en dos pasos' }).click();
    await twoStep.getByRole('button', { name: 'Usar un código de recuperación' }).click();
    const code = twoStep.getByLabel(RECOVERY_CODE);
    await code.fill(state.recoveryCodes[0]); // spent by test 7
    await twoStep.getByRole('button', { name: 'Desactivar', exact: true }).click();
    await twoStep.getByText(WRONG_CODE).waitFor();
    const beforeOff = (await sentMail()).length;
    await code.fill(state.recoveryCodes[1]);
    await twoStep.getByRole('button', { name: 'Desactivar', exact: true }).click();
    await twoStep.getByText('Desactivaste la verificación en dos pasos.').waitFor();
    await twoStep.getByText('La verificación en dos pasos no está activa.').waitFor();
    await waitForMail((m) => mailTo(DEMO_EMAIL)(m) && /^Se desactivó la verificación en dos pasos/.test(m.subject), {
      after: beforeOff,
    });

    const password = part(p, 'Contraseña');
    const current = password.getByLabel('Contraseña actual');
    const fresh = password.getByLabel('Nueva contraseña', { exact: true });
    const again = password.getByLabel('Confirma la nueva contraseña');
    const submit = password.getByRole('button', { name: 'Cambiar contraseña' });
    // The rule is said before anything is sent, tied to the field.
    const rule = password.getByText('debe tener entre 12 y 128 caracteres');
    assert.ok((await fresh.getAttribute('aria-describedby')).split(/\s+/).includes(await rule.getAttribute('id')));
    const sent = [];
    p.on('request', (r) => {
      if (r.url().endsWith('/api/password')) sent.push(r.postDataJSON());
    });
    const newPassword = `otra-frase-${Date.now()}-segura`;

    await current.fill('no-es-la-actual-1');
    await fresh.fill(newPassword);
    await again.fill(newPassword);
    await submit.click();
    await password.getByText('Tu contraseña actual no es correcta.').waitFor();
    assert.equal(await current.getAttribute('aria-invalid'), 'true');

    await current.fill(DEMO_PASSWORD);
    await fresh.fill('corta-clave');
    await again.fill('corta-clave');
    await submit.click();
    await password.getByText('debe tener al menos 12 caracteres').waitFor();
    assert.equal(sent.length, 1, 'a short password was sent');

    await fresh.fill('123456789012');
    await again.fill('123456789012');
    await submit.click();
    await password.getByText('Esa contraseña es demasiado común o fácil de adivinar').waitFor();
    assert.equal(sent.length, 2);

    const mailsBefore = (await sentMail()).length;
    await fresh.fill(newPassword);
    await again.fill(newPassword);
    await submit.click();
    await password.getByText('Tu contraseña se cambió. Cerramos tus demás sesiones').waitFor();
    assert.deepEqual(sent.at(-1), { current_password: DEMO_PASSWORD, new_password: newPassword });
    assert.equal(await current.inputValue(), '', 'the password stays in the field');
    await waitForMail((m) => mailTo(DEMO_EMAIL)(m) && /contraseña .*cambió/i.test(m.subject), { after: mailsBefore });
    await assertCleanPage(p);
    state.password = newPassword;

    // The old password no longer opens the account; the new one does, with no code now.
    await p.getByRole('button', { name: 'Cerrar sesión', exact: true }).click();
    await p.getByRole('heading', { level: 1, name: 'Iniciar sesión' }).waitFor();
    await submitLogin(p, DEMO_EMAIL, DEMO_PASSWORD);
    await p.getByText('El correo electrónico o la contraseña no son correctos.').waitFor();
    await submitLogin(p, DEMO_EMAIL, newPassword);
    await waitForServices(p);
  });

  e2e('10. the e-mail changed through the link mailed to the new address; the serials stay', async () => {
    const p = state.main;
    assert.ok(p, 'test 7 left no signed-in tab');
    const serials = (await tableRows(p)).map((r) => r.serial).sort();
    await openSecurity(p);
    const email = part(p, 'Correo electrónico');
    assert.equal(await email.locator('.current-email').innerText(), DEMO_EMAIL);
    const newEmail = `ana.nueva.${Date.now()}@example.com`;
    const address = email.getByLabel('Nuevo correo electrónico');
    const password = email.getByLabel('Tu contraseña');
    const submit = email.getByRole('button', { name: 'Enviar enlace de confirmación' });

    await address.fill(DEMO_EMAIL.toUpperCase());
    await password.fill(state.password);
    await submit.click();
    await email.getByText('Ese ya es tu correo electrónico.').waitFor();

    await address.fill(newEmail);
    await password.fill('no-es-la-contraseña');
    await submit.click();
    await email.getByText('Tu contraseña actual no es correcta.').waitFor();

    const mailsBefore = (await sentMail()).length;
    await password.fill(state.password);
    await submit.click();
    await email.getByText(`Revisa tu correo: enviamos a ${newEmail} un enlace para confirmar el cambio.`).waitFor();
    const mail = await waitForMail((m) => mailTo(newEmail)(m) && linkFrom(m.body, '/email-change') !== null, {
      after: mailsBefore,
    });
    await waitForMail((m) => mailTo(DEMO_EMAIL)(m) && m.body.includes(newEmail), { after: mailsBefore });
    const link = linkFrom(mail.body, '/email-change');

    // Opened where nobody is signed in: log in with the current address, then confirm.
    const q = await newTab();
    await q.goto(link);
    await q.getByRole('heading', { level: 1, name: 'Confirma tu nuevo correo' }).waitFor();
    assert.ok(!q.url().includes('token'), `the token stays in the address bar: ${q.url()}`);
    await q.getByRole('link', { name: 'Iniciar sesión' }).click();
    await q.getByRole('heading', { level: 1, name: 'Iniciar sesión' }).waitFor();
    await submitLogin(q, DEMO_EMAIL, state.password);
    await q.getByRole('heading', { level: 1, name: 'Confirma tu nuevo correo' }).waitFor();
    await assertFits(q, 375);
    await screenshot(q, '10-confirmar-correo-375');
    const confirm = q.waitForRequest((r) => r.url().endsWith('/email-change/confirm'));
    await q.getByRole('button', { name: 'Confirmar mi nuevo correo' }).click();
    assert.equal(typeof (await confirm).postDataJSON().token, 'string');
    await q.getByText('Tu correo electrónico se cambió.').waitFor();
    await q.getByRole('heading', { level: 1, name: 'Iniciar sesión' }).waitFor();
    assert.equal(await q.evaluate(() => sessionStorage.getItem('portal.session')), null);
    await assertCleanPage(q);

    // Every session ended: the first tab's next call says so.
    await p.getByRole('navigation', { name: 'Mi cuenta' }).getByRole('link', { name: 'Mis servicios' }).click();
    await p.getByText(SESSION_ENDED).waitFor();

    // The old address opens nothing; the new one opens the same services.
    await submitLogin(q, DEMO_EMAIL, state.password);
    await q.getByText('El correo electrónico o la contraseña no son correctos.').waitFor();
    await submitLogin(q, newEmail, state.password);
    await waitForServices(q);
    assert.deepEqual((await tableRows(q)).map((r) => r.serial).sort(), serials);
    await q.getByRole('navigation', { name: 'Mi cuenta' }).getByRole('link', { name: 'Seguridad' }).click();
    await q.getByRole('heading', { level: 1, name: 'Seguridad' }).waitFor();
    assert.equal(await part(q, 'Correo electrónico').locator('.current-email').innerText(), newEmail);

    // The link works once.
    await q.goto(link);
    await q.getByRole('button', { name: 'Confirmar mi nuevo correo' }).click();
    await q.getByText('El enlace para confirmar tu nuevo correo no es válido').waitFor();
    await assertCleanPage(q);
    await q.goto(WEB_URL);
  });
}
