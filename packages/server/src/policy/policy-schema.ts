import { ACTION_KINDS, EVENT_TRIGGERS, HOOK_TRIGGERS, OPERATORS } from './policy-document.ts';

const SECURITY_EVENTS = ['revoked-certificate-used', 'topic-violation', 'auth-failure-burst', 'cloned-certificate', 'message-rate-anomaly', 'unusual-command-time', 'unexpected-network'];

const scalar = { type: ['string', 'number', 'boolean'] };

/** JSON Schema (draft-07, ajv) of a policy document; facts and operator types are checked after. */
export const POLICY_SCHEMA = {
  $id: 'https://medtrust.dev/schemas/policy-v1.json',
  type: 'object',
  required: ['name', 'trigger', 'rules'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
    description: { type: 'string', maxLength: 2000 },
    enabled: { type: 'boolean' },
    trigger: {
      oneOf: [
        { type: 'object', required: ['event'], additionalProperties: false, properties: { event: { enum: [...EVENT_TRIGGERS, ...HOOK_TRIGGERS] } } },
        { type: 'object', required: ['schedule'], additionalProperties: false, properties: { schedule: { type: 'object', required: ['everyMinutes'], additionalProperties: false, properties: { everyMinutes: { type: 'integer', minimum: 1, maximum: 10080 } } } } },
      ],
    },
    rules: {
      type: 'array', minItems: 1, maxItems: 50,
      items: {
        type: 'object', required: ['name', 'when', 'actions'], additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
          when: { $ref: '#/definitions/condition' },
          actions: { type: 'array', minItems: 1, maxItems: 10, items: { $ref: '#/definitions/action' } },
        },
      },
    },
  },
  definitions: {
    condition: {
      type: 'object',
      oneOf: [
        { required: ['all'], additionalProperties: false, properties: { all: { type: 'array', minItems: 1, maxItems: 50, items: { $ref: '#/definitions/condition' } } } },
        { required: ['any'], additionalProperties: false, properties: { any: { type: 'array', minItems: 1, maxItems: 50, items: { $ref: '#/definitions/condition' } } } },
        { required: ['not'], additionalProperties: false, properties: { not: { $ref: '#/definitions/condition' } } },
        {
          required: ['fact'], additionalProperties: false, minProperties: 2, maxProperties: 2,
          properties: { fact: { type: 'string' }, ...Object.fromEntries(OPERATORS.map((o) => [o, { anyOf: [scalar, { type: 'array', maxItems: 200, items: scalar }] }])) },
        },
      ],
    },
    action: {
      type: 'object', required: ['kind'],
      properties: { kind: { enum: [...ACTION_KINDS] } },
      allOf: [
        { if: { properties: { kind: { const: 'alert' } } }, then: { required: ['event'], additionalProperties: false, properties: { kind: {}, event: { enum: SECURITY_EVENTS } } } },
        { if: { properties: { kind: { const: 'revoke' } } }, then: { additionalProperties: false, properties: { kind: {}, reason: { enum: ['keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold'] } } } },
        { if: { properties: { kind: { const: 'notify' } } }, then: { required: ['topic'], additionalProperties: false, properties: { kind: {}, topic: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{0,63}$' }, flag: { enum: ['reenrol-required', 'update-required'] } } } },
        { if: { properties: { kind: { enum: ['quarantine', 'force-update', 'deny'] } } }, then: { additionalProperties: false, properties: { kind: {} } } },
      ],
    },
  },
} as const;
