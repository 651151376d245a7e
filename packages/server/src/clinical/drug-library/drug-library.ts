import type { Limits } from '../commands/limits.ts';

/** How an infusion is dosed: a plain volume rate or a dose rate converted through concentration. */
export type DoseUnit = 'mL/h' | 'mg/h' | 'mcg/min' | 'mcg/kg/min' | 'mg/kg/h' | 'units/h' | 'units/kg/h';

/** One drug in one care area (DERS entry). Limits are in `doseUnit`. */
export interface DrugEntry {
  readonly careArea: string;
  readonly drug: string;
  /** Amount of drug per mL, in `concentrationUnit` (e.g. 100 units/mL of heparin). */
  readonly concentration: number;
  readonly concentrationUnit: 'mg/mL' | 'mcg/mL' | 'units/mL' | 'mL/mL';
  readonly doseUnit: DoseUnit;
  readonly limits: Limits;
  /** ISMP high-alert medication: soft-limit overrides need a second clinician. */
  readonly highAlert: boolean;
}

/** An immutable version of the library; commands are checked against the active one. */
export interface DrugLibrary {
  readonly version: number;
  readonly entries: readonly DrugEntry[];
}

export function findDrug(lib: DrugLibrary, careArea: string, drug: string, concentration?: number): DrugEntry | undefined {
  const key = drug.trim().toLowerCase();
  return lib.entries.find((e) => e.careArea === careArea && e.drug.toLowerCase() === key && (concentration === undefined || e.concentration === concentration));
}

/**
 * Converts a dose rate to the pump's volume rate (mL/h) through the concentration, so that the
 * engine can compare a dose limit with what the pump will run. Weight in kg when per-kg.
 */
export function doseToMlPerHour(entry: DrugEntry, dose: number, weightKg?: number): number {
  const perKg = entry.doseUnit.includes('/kg/');
  if (perKg && !(weightKg !== undefined && weightKg > 0)) throw new RangeError('weight needed for a per-kg dose');
  const w = perKg ? weightKg! : 1;
  // Concentration amounts in the dose's mass unit.
  const conc = entry.concentration * (entry.concentrationUnit === 'mg/mL' && entry.doseUnit.startsWith('mcg') ? 1000 : 1);
  switch (entry.doseUnit) {
    case 'mL/h':
      return dose;
    case 'mg/h':
    case 'units/h':
      return dose / conc;
    case 'mcg/min':
      return (dose * 60) / conc;
    case 'mcg/kg/min':
      return (dose * w * 60) / conc;
    case 'mg/kg/h':
    case 'units/kg/h':
      return (dose * w) / conc;
    default:
      return entry.doseUnit satisfies never;
  }
}

/** The inverse of doseToMlPerHour: what dose a pump running at `mlPerHour` delivers. */
export function mlPerHourToDose(entry: DrugEntry, mlPerHour: number, weightKg?: number): number {
  const unitDose = doseToMlPerHour(entry, 1, weightKg);
  return mlPerHour / unitDose;
}
