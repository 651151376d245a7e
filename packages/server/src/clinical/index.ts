export { ClinicalError, clinicalErrors } from './errors.ts';
export type { ClinicalErrorCode } from './errors.ts';
export { checkLimits, limitsProblems, rateJumpRatio, RATE_JUMP_RATIO } from './commands/limits.ts';
export type { Limits, LimitCheck } from './commands/limits.ts';
export { checkInfusionCommand, checkDeclaredCommand } from './commands/command-safety.ts';
export type { InfusionCommand, PumpState, Approvals, Finding, SafetyDecision, CommandSpec } from './commands/command-safety.ts';
export { findDrug, doseToMlPerHour } from './drug-library/drug-library.ts';
export type { DrugEntry, DrugLibrary, DoseUnit } from './drug-library/drug-library.ts';
export { parseDrugLibrary, DRUG_LIBRARY_CSV_COLUMNS } from './drug-library/parse-drug-library.ts';
