// What the sections of "Seguridad" share: a titled card, and the end of a dead session.
import { isApiError } from '../../api.ts';
import type { App } from '../../app.ts';
import { h, uid } from '../../dom.ts';

/** A section of the page: a card with its heading (level 2) and a short lead. */
export function part(
  title: string,
  lead: string,
  ...content: Node[]
): { element: HTMLElement; heading: HTMLElement } {
  const id = uid('security-part');
  const heading = h('h2', { id, tabindex: '-1' }, title);
  const element = h(
    'section',
    { class: 'card security-part', 'aria-labelledby': id },
    heading,
    h('p', { class: 'lead' }, lead),
    ...content,
  );
  return { element, heading };
}

/** A 401 `unauthorized`: the session is over, back to the login (true: the caller stops). */
export function sessionEnded(app: App, e: unknown): boolean {
  if (isApiError(e) && e.code === 'unauthorized') {
    app.expireSession();
    return true;
  }
  return false;
}
