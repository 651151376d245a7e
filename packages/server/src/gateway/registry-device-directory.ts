import type { DeviceRegistry } from '../devices/index.ts';
import type { DeviceDirectory, DeviceView } from './device-directory.ts';

/** The gateway's DeviceDirectory over the device registry (lifecycle moves go through it). */
export class RegistryDeviceDirectory implements DeviceDirectory {
  readonly #registry: DeviceRegistry;

  constructor(registry: DeviceRegistry) {
    this.#registry = registry;
  }

  async get(deviceId: string): Promise<DeviceView | undefined> {
    const d = await this.#registry.find(deviceId);
    return d && { id: d.id, tenantId: d.tenantId, model: d.model, state: d.state };
  }

  async activate(deviceId: string, actor: string): Promise<void> {
    const d = await this.#registry.find(deviceId);
    // First successful connection: enrolled -> active (docs/device-lifecycle.md), and only from
    // enrolled: a quarantine or decommissioning that lands meanwhile is not undone.
    if (d?.state === 'enrolled') await this.#registry.transition(deviceId, 'active', actor, { onlyFrom: 'enrolled' });
  }
}
