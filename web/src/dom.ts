// A tiny element builder: text always goes in as text nodes, never as HTML.

type Child = Node | string | number | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined;
type Attrs = Record<string, AttrValue | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Array<Child | Child[]>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') {
      el.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else if (value !== false && value !== null && value !== undefined) {
      el.setAttribute(name === 'className' ? 'class' : name, String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Array<Child | Child[]>): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let counter = 0;
/** A document-unique id, for label/aria wiring. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A live region for a view's messages; `show` replaces its text. */
export interface MessageBox {
  element: HTMLElement;
  show(kind: 'error' | 'info' | 'success', ...content: Array<Child | Child[]>): void;
  clear(): void;
}

export function messageBox(extraClass = ''): MessageBox {
  const element = h('div', {
    class: `message ${extraClass}`.trim(),
    role: 'status',
    'aria-live': 'polite',
    'aria-atomic': 'true',
  });
  return {
    element,
    show(kind, ...content) {
      element.replaceChildren();
      element.dataset.kind = kind;
      append(element, h('p', {}, ...content));
    },
    clear() {
      element.replaceChildren();
      delete element.dataset.kind;
    },
  };
}

/** Marks a field invalid, points it at its error text, and focuses it. */
export function flagField(input: HTMLInputElement, errorId: string): void {
  input.setAttribute('aria-invalid', 'true');
  const ids = new Set((input.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean));
  ids.add(errorId);
  input.setAttribute('aria-describedby', [...ids].join(' '));
  input.focus();
}

export function unflagField(input: HTMLInputElement, errorId: string): void {
  input.removeAttribute('aria-invalid');
  const ids = (input.getAttribute('aria-describedby') ?? '')
    .split(/\s+/)
    .filter((id) => id && id !== errorId);
  if (ids.length) input.setAttribute('aria-describedby', ids.join(' '));
  else input.removeAttribute('aria-describedby');
}

/** Elements reachable with Tab inside `root`, in order. */
export function tabbables(root: HTMLElement): HTMLElement[] {
  const selector =
    'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  return [...root.querySelectorAll<HTMLElement>(selector)].filter(
    (el) => !el.closest('[hidden]') && el.getClientRects().length > 0 && el.tabIndex >= 0,
  );
}

/** A button's busy state: disabled, with a different text while it works. */
export function setBusy(button: HTMLButtonElement, busy: boolean, busyText?: string): void {
  if (busy) {
    button.dataset.idleText = button.textContent ?? '';
    if (busyText) button.textContent = busyText;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
  } else {
    if (button.dataset.idleText !== undefined) button.textContent = button.dataset.idleText;
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** Tab and Shift+Tab wrap around inside `root` (a modal dialog): call it on keydown. */
export function keepTabInside(root: HTMLElement, event: KeyboardEvent): void {
  if (event.key !== 'Tab') return;
  const items = tabbables(root);
  if (items.length === 0) {
    event.preventDefault();
    return;
  }
  const first = items[0]!;
  const last = items[items.length - 1]!;
  const active = document.activeElement as HTMLElement | null;
  const inside = active !== null && root.contains(active);
  if (event.shiftKey && (active === first || !inside || active === root)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (active === last || !inside)) {
    event.preventDefault();
    first.focus();
  }
}
