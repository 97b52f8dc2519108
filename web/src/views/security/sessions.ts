// "Sesiones abiertas": where the account is signed in (browser, address, when), this one
// marked; any one ends with its button, and all the others at once.
import { isApiError, type SessionInfo } from '../../api.ts';
import { describeAgent } from '../../agent.ts';
import type { App } from '../../app.ts';
import { h, messageBox, setBusy } from '../../dom.ts';
import { formatInstant } from '../../format.ts';
import { sentenceFor } from '../../messages.ts';
import { part, sessionEnded } from './part.ts';

export interface SessionsSection {
  element: HTMLElement;
  reload(): void;
  destroy(): void;
}

export function sessionsSection(app: App): SessionsSection {
  const msg = messageBox();
  const list = h('ul', { class: 'sessions', 'aria-busy': 'true' });
  const endOthers = h(
    'button',
    { type: 'button', class: 'secondary', hidden: true },
    'Cerrar todas las demás sesiones',
  );
  const { element, heading } = part(
    'Sesiones abiertas',
    'Dónde está abierta tu cuenta ahora. Si no reconoces una sesión, ciérrala y cambia tu contraseña.',
    msg.element,
    list,
    h('div', { class: 'actions' }, endOthers),
  );
  let seq = 0;
  let others: SessionInfo[] = [];

  function item(s: SessionInfo): HTMLLIElement {
    const agent = describeAgent(s.user_agent);
    const started = formatInstant(s.created_at);
    const button = h(
      'button',
      {
        type: 'button',
        class: 'secondary small',
        'data-action': 'end-session',
        'aria-label': s.current
          ? 'Cerrar esta sesión (la de este navegador)'
          : `Cerrar la sesión de ${agent} iniciada el ${started}`,
      },
      s.current ? 'Cerrar esta sesión' : 'Cerrar sesión',
    );
    button.addEventListener('click', () => void end(s, agent, started, button));
    const row = (term: string, value: string) => [h('dt', {}, term), h('dd', {}, value)];
    return h(
      'li',
      { class: 'session', 'data-session-id': s.id, 'data-current': String(s.current) },
      h(
        'h3',
        {},
        agent,
        s.current ? h('span', { class: 'this-session' }, 'Esta sesión') : null,
      ),
      h(
        'dl',
        {},
        row('Inicio de sesión', started),
        row('Último uso', formatInstant(s.last_used_at)),
        row('Dirección', s.source_ip || 'Desconocida'),
        row('Navegador', s.user_agent || 'Desconocido'),
      ),
      button,
    );
  }

  async function load(): Promise<void> {
    const session = app.session();
    if (!session) return;
    const mine = ++seq;
    list.setAttribute('aria-busy', 'true');
    if (!list.firstChild) list.append(h('li', { class: 'loading' }, 'Cargando tus sesiones…'));
    try {
      const { sessions } = await app.api.listSessions(session.token);
      if (mine !== seq) return;
      others = sessions.filter((s) => !s.current);
      list.replaceChildren(...sessions.map(item));
      endOthers.hidden = others.length === 0;
    } catch (e) {
      if (mine !== seq) return;
      if (sessionEnded(app, e)) return;
      list.replaceChildren();
      msg.show('error', sentenceFor(e, 'sessions'));
    } finally {
      if (mine === seq) list.removeAttribute('aria-busy');
    }
  }

  async function end(s: SessionInfo, agent: string, started: string, button: HTMLButtonElement): Promise<void> {
    if (s.current) {
      // Ending this one is a logout.
      setBusy(button, true, 'Cerrando…');
      await app.signOut();
      return;
    }
    const session = app.session();
    if (!session) return;
    setBusy(button, true, 'Cerrando…');
    try {
      await app.api.endSession(session.token, s.id);
      msg.show('success', `Cerraste la sesión de ${agent} iniciada el ${started}.`);
    } catch (e) {
      if (sessionEnded(app, e)) return;
      // Already ended elsewhere: the list below shows it gone either way.
      if (!(isApiError(e) && e.code === 'not_found')) {
        setBusy(button, false);
        msg.show('error', sentenceFor(e, 'sessions'));
        return;
      }
      msg.show('info', sentenceFor(e, 'sessions'));
    }
    heading.focus();
    await load();
  }

  endOthers.addEventListener('click', async () => {
    const session = app.session();
    if (!session || others.length === 0) return;
    setBusy(endOthers, true, 'Cerrando…');
    const results = await Promise.allSettled(others.map((s) => app.api.endSession(session.token, s.id)));
    setBusy(endOthers, false);
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failed.some((e) => sessionEnded(app, e))) return;
    const real = failed.filter((e) => !(isApiError(e) && e.code === 'not_found'));
    if (real.length > 0) msg.show('error', sentenceFor(real[0], 'sessions'));
    else msg.show('success', 'Cerraste todas tus demás sesiones. Solo queda abierta esta.');
    heading.focus();
    await load();
  });

  void load();
  return {
    element,
    reload: () => void load(),
    destroy() {
      seq += 1;
    },
  };
}
