import type { DeviceAdmission } from '../device-authenticator.ts';

/**
 * A connect-time admission for tests that holds one device's authentication (after its
 * certificate and state were read) until the test releases it: the window in which a live cut
 * finds no registered connection. Other devices, and the device when nothing is held, pass.
 */
export class AdmissionGate implements DeviceAdmission {
  #held: { readonly deviceId: string; readonly entered: () => void; readonly gate: Promise<void> } | undefined;

  /** Holds the next authentication of `deviceId`; `entered` resolves once it waits. */
  hold(deviceId: string): { readonly entered: Promise<void>; readonly release: () => void } {
    let release!: () => void;
    let entered!: () => void;
    const waiting = new Promise<void>((r) => (entered = r));
    this.#held = { deviceId, entered, gate: new Promise<void>((r) => (release = r)) };
    return { entered: waiting, release: () => {
      this.#held = undefined;
      release();
    } };
  }

  async admitConnect(c: { deviceId: string }): Promise<void> {
    const held = this.#held;
    if (held?.deviceId !== c.deviceId) return;
    held.entered();
    await held.gate;
  }
}
