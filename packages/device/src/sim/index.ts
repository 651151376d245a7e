// The fleet simulator: device models on a seeded timeline, driven through the device SDK.
export { SeededRandom, driftStep } from './seeded-random.ts';
export { SIM_PROFILES, DEVICE_MODELS, simProfile, isSimProfileName, kindAt } from './profiles.ts';
export type { SimDeviceKind, SimProfile, SimProfileName } from './profiles.ts';
export { PatientMonitorModel } from './monitor-model.ts';
export type { VitalsBody, MonitorEventKind } from './monitor-model.ts';
export { GlucoseMonitorModel } from './glucose-model.ts';
export { InfusionPumpModel, SIM_DRUGS } from './pump-model.ts';
export type { InfusionBody } from './pump-model.ts';
export { HealthModel } from './health-model.ts';
export type { HealthBody } from './health-model.ts';
export { SimulatedDevice } from './simulated-device.ts';
export type { SimIdentity, SimEvent, SimEventKind } from './simulated-device.ts';
export { SimulatedFleet } from './simulated-fleet.ts';
export type { SimulatedFleetOptions, FleetStats } from './simulated-fleet.ts';
