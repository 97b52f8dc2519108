import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  billingPeriodLabel,
  formatDate,
  formatInstant,
  formatDuration,
  GROUP_OPTIONS,
  groupHeading,
  groupValueLabel,
  statusLabel,
  upgradeButtonLabel,
} from '../src/format.ts';

test('dates are written dd/mm/aaaa, null as a dash', () => {
  assert.equal(formatDate('2022-02-10'), '10/02/2022');
  assert.equal(formatDate('2026-12-31'), '31/12/2026');
  assert.equal(formatDate('2026-01-05T00:00:00Z'), '05/01/2026');
  assert.equal(formatDate(null), '—');
  assert.equal(formatDate(undefined), '—');
  assert.equal(formatDate(''), '—');
  assert.equal(formatDate('mañana'), '—');
});

test('statuses in Spanish; superseded says until when', () => {
  assert.equal(statusLabel({ status: 'active', valid_until: null }), 'Activa');
  assert.equal(statusLabel({ status: 'expired', valid_until: null }), 'Vencida');
  assert.equal(statusLabel({ status: 'inactive', valid_until: '2026-01-10' }), 'Inactiva');
  assert.equal(
    statusLabel({ status: 'superseded', valid_until: '2026-12-10' }),
    'Vigente hasta 10/12/2026',
  );
  assert.equal(
    statusLabel({ status: 'superseded', valid_until: null }),
    'Vigente hasta su próxima validación',
  );
});

test('billing periods', () => {
  assert.equal(billingPeriodLabel('monthly'), 'Mensual');
  assert.equal(billingPeriodLabel('semiannual'), 'Semestral');
  assert.equal(billingPeriodLabel('annual'), 'Anual');
  assert.equal(billingPeriodLabel(null), '—');
});

test('"Agrupar por" offers the four columns and no grouping, mapped to the API values', () => {
  assert.deepEqual(
    GROUP_OPTIONS.map((o) => [o.value, o.label]),
    [
      ['', 'Sin agrupar'],
      ['system', 'Sistema'],
      ['version', 'Versión'],
      ['status', 'Estado'],
      ['billing_period', 'Periodicidad'],
    ],
  );
});

test('group headers name the group in Spanish', () => {
  const sae = [{ system_name: 'Aspel SAE' }, { system_name: 'Aspel SAE' }];
  assert.equal(groupValueLabel('system', 'SAE', sae), 'Aspel SAE');
  assert.equal(groupValueLabel('system', 'SAE', []), 'SAE');
  assert.equal(groupValueLabel('version', '7.0'), 'Versión 7.0');
  assert.equal(groupValueLabel('status', 'active'), 'Activas');
  assert.equal(groupValueLabel('status', 'expired'), 'Vencidas');
  assert.equal(groupValueLabel('status', 'superseded'), 'Actualizadas (aún vigentes)');
  assert.equal(groupValueLabel('status', 'inactive'), 'Inactivas');
  assert.equal(groupValueLabel('billing_period', 'monthly'), 'Mensual');
  assert.equal(groupValueLabel('billing_period', 'semiannual'), 'Semestral');
  assert.equal(groupValueLabel('billing_period', 'annual'), 'Anual');
  assert.equal(groupValueLabel('billing_period', null), 'Sin periodicidad');
  assert.equal(groupValueLabel('plan', 'license'), 'Licenciamiento');
  assert.equal(groupHeading('system', 'SAE', sae), 'Sistema: Aspel SAE (2 servicios)');
  assert.equal(
    groupHeading('billing_period', 'annual', [{ system_name: 'Aspel NOI' }]),
    'Periodicidad: Anual (1 servicio)',
  );
});

test('durations in words, rounded up', () => {
  assert.equal(formatDuration(900), '15 minutos');
  assert.equal(formatDuration(893), '15 minutos');
  assert.equal(formatDuration(60), '1 minuto');
  assert.equal(formatDuration(61), '2 minutos');
  assert.equal(formatDuration(1), '1 segundo');
  assert.equal(formatDuration(30), '30 segundos');
  assert.equal(formatDuration(3600), '1 hora');
  assert.equal(formatDuration(5400), '1 hora y 30 minutos');
  assert.equal(formatDuration(7260), '2 horas y 1 minuto');
});

test('upgrade button text', () => {
  assert.equal(upgradeButtonLabel('8.0'), 'Actualizar a 8.0');
});

test('instants in the given time zone, dd/mm/aaaa, hh:mm', () => {
  assert.equal(formatInstant('2026-12-02T15:05:09Z', 'America/Mexico_City'), '02/12/2026, 09:05');
  assert.equal(formatInstant('2026-12-02T00:30:00Z', 'UTC'), '02/12/2026, 00:30');
  assert.equal(formatInstant('2026-12-02T23:59:00Z', 'America/Mexico_City'), '02/12/2026, 17:59');
  assert.equal(formatInstant('no es una fecha'), '—');
  assert.equal(formatInstant(null), '—');
});
