import { INFUSION_ALARMS, INFUSION_STATES } from './device-message.ts';

// Ranges are what a living patient or a working device can show, not alarm limits: a value
// outside them is a sensor or encoding fault, never a clinical finding (docs/device-protocol.md).
const measured = (unit: string, minimum: number, maximum: number): object => ({
  type: 'object',
  required: ['value', 'unit'],
  additionalProperties: false,
  properties: { value: { type: 'number', minimum, maximum }, unit: { const: unit } },
});

const envelope = {
  v: { const: 1 },
  id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' },
  ts: { type: 'integer', minimum: 0 },
} as const;

/** JSON Schema (draft-07) of protocol v1; compiled once by MessageValidator. */
export const deviceMessageSchema = {
  $id: 'https://medtrust.dev/schemas/device-message-v1.json',
  type: 'object',
  required: ['kind'],
  // The discriminator makes ajv report errors of the branch the message names, not of all three.
  discriminator: { propertyName: 'kind' },
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['v', 'id', 'ts', 'kind', 'vitals'],
      properties: {
        ...envelope,
        kind: { const: 'vitals' },
        vitals: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            heartRate: measured('/min', 0, 350),
            spo2: measured('%', 0, 100),
            bodyTemperature: measured('Cel', 10, 47),
            nibp: {
              type: 'object',
              required: ['systolic', 'diastolic', 'unit'],
              additionalProperties: false,
              properties: {
                systolic: { type: 'number', minimum: 0, maximum: 350 },
                diastolic: { type: 'number', minimum: 0, maximum: 300 },
                mean: { type: 'number', minimum: 0, maximum: 320 },
                unit: { const: 'mm[Hg]' },
              },
            },
            respiratoryRate: measured('/min', 0, 150),
            glucose: measured('mg/dL', 1, 3000),
          },
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['v', 'id', 'ts', 'kind', 'infusion'],
      properties: {
        ...envelope,
        kind: { const: 'infusion' },
        infusion: {
          type: 'object',
          additionalProperties: false,
          required: ['drug', 'concentration', 'rateMlPerH', 'vtbiMl', 'volumeInfusedMl', 'state', 'alarms'],
          properties: {
            drug: { type: 'string', minLength: 1, maxLength: 100 },
            concentration: {
              type: 'object',
              additionalProperties: false,
              required: ['value', 'unit'],
              properties: { value: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000 }, unit: { enum: ['mg/mL', 'ug/mL', 'ng/mL', '[iU]/mL', 'mmol/L', 'mEq/mL'] } },
            },
            rateMlPerH: { type: 'number', minimum: 0, maximum: 2000 },
            vtbiMl: { type: 'number', minimum: 0, maximum: 10_000 },
            volumeInfusedMl: { type: 'number', minimum: 0, maximum: 10_000 },
            state: { enum: [...INFUSION_STATES] },
            alarms: { type: 'array', maxItems: 16, uniqueItems: true, items: { enum: [...INFUSION_ALARMS] } },
          },
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['v', 'id', 'ts', 'kind', 'health'],
      properties: {
        ...envelope,
        kind: { const: 'health' },
        health: {
          type: 'object',
          additionalProperties: false,
          required: ['batteryPct', 'firmwareVersion', 'uptimeS', 'errorCodes'],
          properties: {
            batteryPct: { type: 'number', minimum: 0, maximum: 100 },
            firmwareVersion: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9.+_-]+$' },
            uptimeS: { type: 'integer', minimum: 0, maximum: 10_000_000_000 },
            errorCodes: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9._-]+$' } },
          },
        },
      },
    },
  ],
} as const;
