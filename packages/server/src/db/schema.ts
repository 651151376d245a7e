import type { AccessTables } from '../access/tables.ts';
import type { AuditTables } from '../audit/tables.ts';
import type { ClinicalTables } from '../clinical/tables.ts';
import type { EventTables } from '../events/tables.ts';
import type { FhirTables } from '../fhir/tables.ts';
import type { PatientTables } from '../patients/tables.ts';
import type { PkiTables } from '../pki/tables.ts';
import type { PolicyTables } from '../policy/tables.ts';
import type { DeviceTables } from '../devices/tables.ts';
import type { JobTables } from '../jobs/tables.ts';
import type { TelemetryTables } from '../telemetry/tables.ts';
import type { UpdateTables } from '../updates/tables.ts';
import type { VulnTables } from '../vulns/tables.ts';

/**
 * The whole database as Kysely sees it: each domain declares its own tables in `tables.ts`.
 * Conventions shared by both dialects: times are integer milliseconds since the epoch,
 * booleans are 0/1 integers, JSON is text, binary is blob/bytea (a Buffer either way).
 */
export interface Database extends AccessTables, AuditTables, EventTables, PkiTables, DeviceTables, JobTables, ClinicalTables, PatientTables, FhirTables, TelemetryTables, UpdateTables, VulnTables, PolicyTables {}
