import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceAccessOf } from './device-access.ts';

describe('deviceAccessOf', () => {
  const device = { tenantId: 'ten_hosp', siteId: 'ten_site1' };
  it('gives the owning hospital and its site full access', () => {
    assert.equal(deviceAccessOf(device, { tenantId: 'ten_hosp', tenantKind: 'customer' }).kind, 'full');
    assert.equal(deviceAccessOf(device, { tenantId: 'ten_site1', tenantKind: 'site' }).kind, 'full');
  });
  it('refuses another hospital and another site', () => {
    assert.equal(deviceAccessOf(device, { tenantId: 'ten_other', tenantKind: 'customer' }).kind, 'none');
    assert.equal(deviceAccessOf(device, { tenantId: 'ten_site2', tenantKind: 'site' }).kind, 'none');
  });
  it('gives the operator device data but not patient data of a claimed device', () => {
    assert.equal(deviceAccessOf(device, { tenantId: 'ten_op', tenantKind: 'operator' }).kind, 'device-only');
    assert.equal(deviceAccessOf({ tenantId: 'ten_op', siteId: null }, { tenantId: 'ten_op', tenantKind: 'operator' }).kind, 'full');
  });
});
