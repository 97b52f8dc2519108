// "Mi cuenta → Seguridad": the password, two-step verification, the open sessions and the
// e-mail, one section each.
import type { App, View } from '../../app.ts';
import { h } from '../../dom.ts';
import { emailSection } from './email.ts';
import { passwordSection } from './password.ts';
import { sessionsSection } from './sessions.ts';
import { twoStepSection } from './two-step.ts';

export function securityView(app: App): View {
  const heading = h('h1', { tabindex: '-1', id: 'security-title' }, 'Seguridad');
  const sessions = sessionsSection(app);
  const element = h(
    'section',
    { class: 'view security', 'aria-labelledby': 'security-title' },
    heading,
    h(
      'p',
      { class: 'lead' },
      'Protege el acceso a tu cuenta: tu contraseña, la verificación en dos pasos, tus sesiones abiertas y tu correo electrónico.',
    ),
    // A password change ends the other sessions: the list shows it at once.
    passwordSection(app, () => sessions.reload()),
    twoStepSection(app),
    sessions.element,
    emailSection(app),
  );
  return {
    element,
    title: 'Seguridad',
    heading,
    destroy: () => sessions.destroy(),
  };
}
