// Test adapters over the real `certificate` and `device` tables, standing in for the PKI
// certificate store and the device registry in gateway tests.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.ts';
import type { CertificateRecord, CertificateStore } from '../../pki/index.ts';
import type { DeviceDirectory, DeviceView } from '../device-directory.ts';

export class TableCertificateStore implements CertificateStore {
  constructor(private readonly db: Kysely<Database>) {}
  async get(serial: string): Promise<CertificateRecord | undefined> {
    return this.db.selectFrom('certificate').selectAll().where('serial', '=', serial).executeTakeFirst();
  }
  async currentForDevice(deviceId: string, profile: 'idevid' | 'ldevid'): Promise<CertificateRecord | undefined> {
    return this.db.selectFrom('certificate').selectAll().where('device_id', '=', deviceId).where('profile', '=', profile).where('status', '=', 'valid')
      .orderBy('created_at', 'desc').orderBy('not_after', 'desc').limit(1).executeTakeFirst();
  }
  async revokedBy(): Promise<readonly CertificateRecord[]> {
    return [];
  }
}

export class TableDeviceDirectory implements DeviceDirectory {
  constructor(private readonly db: Kysely<Database>) {}
  async get(deviceId: string): Promise<DeviceView | undefined> {
    const r = await this.db.selectFrom('device').select(['id', 'tenant_id', 'model', 'state']).where('id', '=', deviceId).executeTakeFirst();
    return r && { id: r.id, tenantId: r.tenant_id, model: r.model, state: r.state };
  }
  async activate(deviceId: string): Promise<void> {
    await this.db.updateTable('device').set({ state: 'active', updated_at: Date.now() }).where('id', '=', deviceId).where('state', '=', 'enrolled').execute();
  }
}
