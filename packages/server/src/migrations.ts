import { accessMigrations } from './access/migrations.ts';
import { auditMigrations } from './audit/migrations.ts';
import { clinicalMigrations } from './clinical/migrations.ts';
import type { DomainMigration } from './db/index.ts';
import { deviceMigrations } from './devices/migrations.ts';
import { eventMigrations } from './events/migrations.ts';
import { fhirMigrations } from './fhir/migrations.ts';
import { jobMigrations } from './jobs/migrations.ts';
import { patientMigrations } from './patients/migrations.ts';
import { pkiMigrations } from './pki/migrations.ts';
import { policyMigrations } from './policy/migrations.ts';
import { telemetryMigrations } from './telemetry/migrations.ts';
import { updateMigrations } from './updates/migrations.ts';
import { vulnMigrations } from './vulns/migrations.ts';

/** Every domain's migrations; the migrator applies them in name order. */
export const allMigrations: readonly DomainMigration[] = [
  ...accessMigrations,
  ...auditMigrations,
  ...eventMigrations,
  ...jobMigrations,
  ...deviceMigrations,
  ...pkiMigrations,
  ...clinicalMigrations,
  ...patientMigrations,
  ...fhirMigrations,
  ...telemetryMigrations,
  ...updateMigrations,
  ...vulnMigrations,
  ...policyMigrations,
];
