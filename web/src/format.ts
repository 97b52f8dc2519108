// How the page writes dates, statuses and group names (pure functions, es-MX).
import type { BillingPeriod, GroupBy, Plan, SerialStatus, Subscription } from './api.ts';

export const EMPTY = '—';

/** "2022-02-10" → "10/02/2022"; null or anything that is not a date → "—". */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return EMPTY;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return EMPTY;
  return `${m[3]}/${m[2]}/${m[1]}`;
}

/** A delay in seconds said in words: 900 → "15 minutos", 1 → "1 segundo". */
export function formatDuration(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return s === 1 ? '1 segundo' : `${s} segundos`;
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return minutes === 1 ? '1 minuto' : `${minutes} minutos`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const h = hours === 1 ? '1 hora' : `${hours} horas`;
  if (rest === 0) return h;
  return `${h} y ${rest === 1 ? '1 minuto' : `${rest} minutos`}`;
}

const STATUS: Record<SerialStatus, string> = {
  active: 'Activa',
  expired: 'Vencida',
  superseded: 'Vigente hasta',
  inactive: 'Inactiva',
};

/** The "Estado" cell; a superseded serial says until when it can still be used. */
export function statusLabel(subscription: Pick<Subscription, 'status' | 'valid_until'>): string {
  if (subscription.status === 'superseded') {
    return subscription.valid_until
      ? `Vigente hasta ${formatDate(subscription.valid_until)}`
      : 'Vigente hasta su próxima validación';
  }
  return STATUS[subscription.status] ?? EMPTY;
}

const STATUS_GROUP: Record<SerialStatus, string> = {
  active: 'Activas',
  expired: 'Vencidas',
  superseded: 'Actualizadas (aún vigentes)',
  inactive: 'Inactivas',
};

const BILLING: Record<BillingPeriod, string> = {
  monthly: 'Mensual',
  semiannual: 'Semestral',
  annual: 'Anual',
};

export function billingPeriodLabel(period: string | null | undefined): string {
  if (!period) return EMPTY;
  return BILLING[period as BillingPeriod] ?? period;
}

const PLAN: Record<Plan, string> = {
  subscription: 'Suscripción',
  license: 'Licenciamiento',
};

export function planLabel(plan: string | null | undefined): string {
  if (!plan) return EMPTY;
  return PLAN[plan as Plan] ?? plan;
}

/** The "Agrupar por" choices; '' is "Sin agrupar". */
export const GROUP_OPTIONS: ReadonlyArray<{ value: GroupBy | ''; label: string }> = [
  { value: '', label: 'Sin agrupar' },
  { value: 'system', label: 'Sistema' },
  { value: 'version', label: 'Versión' },
  { value: 'status', label: 'Estado' },
  { value: 'billing_period', label: 'Periodicidad' },
];

export function isGroupBy(value: string): value is GroupBy {
  return ['system', 'version', 'status', 'billing_period', 'plan'].includes(value);
}

const DIMENSION: Record<GroupBy, string> = {
  system: 'Sistema',
  version: 'Versión',
  status: 'Estado',
  billing_period: 'Periodicidad',
  plan: 'Modalidad',
};

/** The value part of a group header row, e.g. "Aspel SAE", "Versión 7.0", "Mensual". */
export function groupValueLabel(
  groupBy: GroupBy,
  key: string | null,
  subscriptions: ReadonlyArray<Pick<Subscription, 'system_name'>> = [],
): string {
  switch (groupBy) {
    case 'system':
      return subscriptions[0]?.system_name || key || EMPTY;
    case 'version':
      return key ? `Versión ${key}` : EMPTY;
    case 'status':
      return (key && STATUS_GROUP[key as SerialStatus]) || key || EMPTY;
    case 'billing_period':
      return key ? billingPeriodLabel(key) : 'Sin periodicidad';
    case 'plan':
      return planLabel(key);
  }
}

/** A whole group header: "Sistema: Aspel SAE (2 servicios)". */
export function groupHeading(
  groupBy: GroupBy,
  key: string | null,
  subscriptions: ReadonlyArray<Pick<Subscription, 'system_name'>>,
): string {
  const n = subscriptions.length;
  const count = n === 1 ? '1 servicio' : `${n} servicios`;
  return `${DIMENSION[groupBy]}: ${groupValueLabel(groupBy, key, subscriptions)} (${count})`;
}

/** Text of the upgrade button of a row. */
export function upgradeButtonLabel(toVersion: string): string {
  return `Actualizar a ${toVersion}`;
}

/**
 * An instant of the API (RFC 3339) in this browser's time zone: "02/12/2026, 09:05".
 * Anything that is not an instant → "—".
 */
export function formatInstant(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return EMPTY;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return EMPTY;
  const parts = new Intl.DateTimeFormat('es-MX', {
    timeZone,
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('day')}/${part('month')}/${part('year')}, ${part('hour')}:${part('minute')}`;
}
