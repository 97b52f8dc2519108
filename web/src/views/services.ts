// "Mis servicios": Suscripciones and Licenciamiento, grouped on demand, with upgrades.
import {
  asGroups,
  isApiError,
  type GroupBy,
  type Plan,
  type Subscription,
  type SubscriptionGroup,
  type UpgradableSubscription,
  type UpgradeResponse,
} from '../api.ts';
import type { App, View } from '../app.ts';
import { h, messageBox, uid } from '../dom.ts';
import {
  GROUP_OPTIONS,
  formatDate,
  groupHeading,
  isGroupBy,
  statusLabel,
  upgradeButtonLabel,
} from '../format.ts';
import { sentenceFor } from '../messages.ts';
import { LICENSE_DIALOG_TITLE, openLicenseDialog } from './license-dialog.ts';
import { openUpgradeDialog } from './upgrade-dialog.ts';

interface TabDef {
  plan: Plan;
  label: string;
  caption: string;
  empty: string;
}

const TABS: TabDef[] = [
  {
    plan: 'subscription',
    label: 'Suscripciones',
    caption: 'Sistemas en suscripción',
    empty: 'No tienes sistemas en suscripción.',
  },
  {
    plan: 'license',
    label: 'Licenciamiento',
    caption: 'Sistemas con licencia (pago único)',
    empty: 'No tienes licencias registradas.',
  },
];

const COLUMNS = [
  'Sistema',
  'Versión',
  'Usuarios',
  'No. serie',
  'Fecha de activación',
  'Próximo pago',
  'Estado',
  'Acción',
] as const;

// Kept while the page lives, so coming back shows the same tab and grouping.
const remembered: { plan: Plan; groupBy: GroupBy | '' } = { plan: 'subscription', groupBy: '' };

/**
 * A data cell. `data-label` is its column's name, shown before the value when a row is a
 * card (narrow screens); screen readers get the column header instead.
 */
function cell(
  label: (typeof COLUMNS)[number],
  attrs: Record<string, string>,
  content: Node | string | null,
): HTMLTableCellElement {
  return h('td', { ...attrs, role: 'cell', 'data-label': label }, content);
}

function canUpgrade(subscription: Subscription): subscription is UpgradableSubscription {
  return subscription.upgrade.available === true;
}

/** A serial that may run gets an offline activation file (the API's rule). */
function canHaveLicenseFile(subscription: Subscription): boolean {
  return subscription.status === 'active' || subscription.status === 'superseded';
}

export function servicesView(app: App): View {
  const heading = h('h1', { tabindex: '-1', id: 'services-title' }, 'Mis servicios');
  const notice = messageBox('notice');
  const status = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  let seq = 0;

  // --- tabs (WAI-ARIA tabs pattern, automatic activation) ---
  const panelId = uid('services-panel');
  const tabButtons = TABS.map((t) =>
    h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `tab-${t.plan}`,
        'aria-controls': panelId,
        'aria-selected': 'false',
        tabindex: '-1',
      },
      t.label,
    ),
  );
  const tablist = h(
    'div',
    { role: 'tablist', 'aria-label': 'Modalidad de contratación', class: 'tabs' },
    tabButtons,
  );

  // --- "Agrupar por" ---
  const groupId = uid('group-by');
  const groupSelect = h(
    'select',
    { id: groupId, name: 'group-by' },
    GROUP_OPTIONS.map((o) => h('option', { value: o.value }, o.label)),
  );
  groupSelect.value = remembered.groupBy;

  const captionId = uid('services-caption');
  const tableWrap = h('div', {
    class: 'table-wrap',
    role: 'region',
    'aria-labelledby': captionId,
    tabindex: '0',
  });
  const panel = h(
    'div',
    { role: 'tabpanel', id: panelId, class: 'panel' },
    h(
      'div',
      { class: 'toolbar' },
      h('label', { for: groupId }, 'Agrupar por'),
      groupSelect,
    ),
    tableWrap,
  );

  function currentTab(): TabDef {
    return TABS.find((t) => t.plan === remembered.plan) ?? TABS[0]!;
  }

  function selectTab(plan: Plan, focus: boolean): void {
    remembered.plan = plan;
    tabButtons.forEach((b, i) => {
      const on = TABS[i]!.plan === plan;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      if (on) {
        panel.setAttribute('aria-labelledby', b.id);
        if (focus) b.focus();
      }
    });
    void load();
  }

  tabButtons.forEach((b, i) => {
    b.addEventListener('click', () => {
      if (remembered.plan !== TABS[i]!.plan) selectTab(TABS[i]!.plan, true);
    });
    b.addEventListener('keydown', (event) => {
      const last = TABS.length - 1;
      let next: number | null = null;
      if (event.key === 'ArrowRight') next = i === last ? 0 : i + 1;
      else if (event.key === 'ArrowLeft') next = i === 0 ? last : i - 1;
      else if (event.key === 'Home') next = 0;
      else if (event.key === 'End') next = last;
      if (next === null) return;
      event.preventDefault();
      selectTab(TABS[next]!.plan, true);
    });
  });

  groupSelect.addEventListener('change', () => {
    remembered.groupBy = isGroupBy(groupSelect.value) ? groupSelect.value : '';
    void load();
  });

  // --- the table ---
  function rowFor(subscription: Subscription): HTMLTableRowElement {
    const actions: HTMLElement[] = [];
    if (canUpgrade(subscription)) {
      const label = upgradeButtonLabel(subscription.upgrade.to_version);
      const button = h(
        'button',
        {
          type: 'button',
          class: 'upgrade-button',
          'data-serial': subscription.serial,
          'data-action': 'upgrade',
          'aria-label': `${label}: ${subscription.system_name} ${subscription.version}, serie ${subscription.serial}`,
          'aria-haspopup': 'dialog',
        },
        label,
      );
      button.addEventListener('click', () => openDialog(subscription, button));
      actions.push(button);
    }
    if (canHaveLicenseFile(subscription)) {
      const button = h(
        'button',
        {
          type: 'button',
          class: 'secondary small license-button',
          'data-serial': subscription.serial,
          'data-action': 'license-file',
          'aria-label': `${LICENSE_DIALOG_TITLE}: ${subscription.system_name} ${subscription.version}, serie ${subscription.serial}`,
          'aria-haspopup': 'dialog',
        },
        LICENSE_DIALOG_TITLE,
      );
      button.addEventListener('click', () => openLicense(subscription, button));
      actions.push(button);
    }
    const action = actions.length ? h('div', { class: 'row-actions' }, actions) : null;
    return h(
      'tr',
      { role: 'row', 'data-serial': subscription.serial, 'data-status': subscription.status },
      h('th', { scope: 'row', role: 'rowheader' }, subscription.system_name),
      cell('Versión', {}, subscription.version),
      cell('Usuarios', { class: 'num' }, String(subscription.users)),
      cell('No. serie', {}, h('code', { class: 'serial' }, subscription.serial)),
      cell('Fecha de activación', {}, formatDate(subscription.activated_on)),
      cell('Próximo pago', {}, formatDate(subscription.next_payment_on)),
      cell(
        'Estado',
        {},
        h('span', { class: `status status-${subscription.status}` }, statusLabel(subscription)),
      ),
      cell('Acción', { class: action ? 'action' : 'action no-action' }, action),
    );
  }

  function renderTable(groups: SubscriptionGroup[], groupBy: GroupBy | ''): void {
    const tab = currentTab();
    const count = groups.reduce((n, g) => n + g.subscriptions.length, 0);
    // The roles are written out because the phone's layout (a card per row, narrow.css)
    // changes the table's CSS display, which makes some browsers drop its semantics.
    const table = h(
      'table',
      { class: 'services', role: 'table', 'aria-labelledby': captionId },
      h('caption', { id: captionId }, tab.caption),
      h(
        'thead',
        { role: 'rowgroup' },
        h('tr', { role: 'row' }, COLUMNS.map((c) => h('th', { scope: 'col', role: 'columnheader' }, c))),
      ),
    );
    if (count === 0) {
      table.append(
        h(
          'tbody',
          { role: 'rowgroup' },
          h(
            'tr',
            { role: 'row' },
            h('td', { role: 'cell', colspan: String(COLUMNS.length), class: 'empty' }, tab.empty),
          ),
        ),
      );
    } else {
      for (const g of groups) {
        const tbody = h('tbody', { role: 'rowgroup' });
        if (groupBy) {
          tbody.append(
            h(
              'tr',
              { role: 'row', class: 'group-row' },
              h(
                'th',
                { scope: 'rowgroup', role: 'rowheader', colspan: String(COLUMNS.length) },
                groupHeading(groupBy, g.key, g.subscriptions),
              ),
            ),
          );
        }
        for (const subscription of g.subscriptions) tbody.append(rowFor(subscription));
        table.append(tbody);
      }
    }
    const focusedData = (document.activeElement as HTMLElement | null)?.dataset;
    const focusedSerial = focusedData?.serial;
    const focusedAction = focusedData?.action;
    const focusWasInside = tableWrap.contains(document.activeElement);
    tableWrap.replaceChildren(table);
    tableWrap.removeAttribute('aria-busy');
    if (focusWasInside) {
      // Keep the keyboard where it was: the same row's same button (or its other one),
      // or the table.
      const inRow = focusedSerial ? `button[data-serial="${CSS.escape(focusedSerial)}"]` : null;
      const again = inRow
        ? (focusedAction
            ? tableWrap.querySelector<HTMLElement>(`${inRow}[data-action="${CSS.escape(focusedAction)}"]`)
            : null) ?? tableWrap.querySelector<HTMLElement>(inRow)
        : null;
      (again ?? tableWrap).focus();
    }
    status.textContent =
      count === 0 ? tab.empty : `${tab.label}: ${count === 1 ? '1 servicio' : `${count} servicios`}.`;
  }

  async function load(): Promise<void> {
    const session = app.session();
    if (!session) return;
    const mine = ++seq;
    const plan = remembered.plan;
    const groupBy = remembered.groupBy;
    tableWrap.setAttribute('aria-busy', 'true');
    if (!tableWrap.firstChild) tableWrap.append(h('p', { class: 'loading' }, 'Cargando tus servicios…'));
    try {
      const list = await app.api.listSubscriptions(session.token, {
        plan,
        group_by: groupBy || undefined,
      });
      if (mine !== seq) return;
      renderTable(asGroups(list), groupBy);
    } catch (e) {
      if (mine !== seq) return;
      if (isApiError(e) && e.code === 'unauthorized') {
        app.expireSession();
        return;
      }
      tableWrap.removeAttribute('aria-busy');
      const retry = h('button', { type: 'button', class: 'secondary' }, 'Reintentar');
      retry.addEventListener('click', () => void load());
      tableWrap.replaceChildren(
        h('div', { class: 'load-error' }, h('p', {}, sentenceFor(e, 'subscriptions')), retry),
      );
    }
  }

  function openDialog(subscription: UpgradableSubscription, opener: HTMLElement): void {
    const session = app.session();
    if (!session) return;
    openUpgradeDialog({
      api: app.api,
      subscription,
      account: session.account,
      token: session.token,
      opener,
      fallbackFocus: () => tableWrap,
      onUpgraded: (res: UpgradeResponse) => {
        const n = res.subscription;
        notice.show(
          'success',
          `Actualizaste ${n.system_name} a la versión ${n.version}. Tu nuevo número de serie es `,
          h('code', { class: 'serial' }, n.serial),
          '. Te enviamos un correo con las instrucciones de activación.',
        );
        void load();
      },
      onStale: () => void load(),
      onUnauthorized: () => app.expireSession(),
    });
  }

  function openLicense(subscription: Subscription, opener: HTMLElement): void {
    const session = app.session();
    if (!session) return;
    openLicenseDialog({
      api: app.api,
      subscription,
      token: session.token,
      opener,
      fallbackFocus: () => tableWrap,
      onStale: () => void load(),
      onUnauthorized: () => app.expireSession(),
    });
  }

  const element = h(
    'section',
    { class: 'view', 'aria-labelledby': 'services-title' },
    heading,
    notice.element,
    status,
    tablist,
    panel,
  );

  selectTab(remembered.plan, false);

  return {
    element,
    title: 'Mis servicios',
    heading,
    destroy() {
      seq += 1; // drop answers still on their way
    },
  };
}
