import { parse as parseCsv } from 'csv-parse/sync';
import { ClinicalError } from '../errors.ts';
import { limitsProblems, type Limits } from '../commands/limits.ts';
import type { DoseUnit, DrugEntry } from './drug-library.ts';

const DOSE_UNITS: readonly DoseUnit[] = ['mL/h', 'mg/h', 'mcg/min', 'mcg/kg/min', 'mg/kg/h', 'units/h', 'units/kg/h'];
const CONC_UNITS: readonly DrugEntry['concentrationUnit'][] = ['mg/mL', 'mcg/mL', 'units/mL', 'mL/mL'];
const MAX_ENTRIES = 10_000;

/** The CSV header: one entry per row; empty limit cells mean "no such bound". */
export const DRUG_LIBRARY_CSV_COLUMNS = ['careArea', 'drug', 'concentration', 'concentrationUnit', 'doseUnit', 'hardMin', 'softMin', 'softMax', 'hardMax', 'highAlert'] as const;

type Raw = Record<string, unknown>;

function num(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'number' && typeof raw !== 'string') return NaN;
  const n = typeof raw === 'number' ? raw : Number(raw.trim());
  return Number.isFinite(n) ? n : NaN;
}

function entryFrom(raw: Raw, where: string, problems: string[]): DrugEntry | undefined {
  const before = problems.length;
  const str = (k: string): string => {
    const v = raw[k];
    return typeof v === 'string' ? v.trim() : '';
  };
  const careArea = str('careArea');
  const drug = str('drug');
  if (!careArea) problems.push(`${where}: careArea is required`);
  if (!drug) problems.push(`${where}: drug is required`);
  const concentration = num(raw.concentration);
  if (concentration === undefined || !(concentration > 0)) problems.push(`${where}: concentration must be a number > 0`);
  const concentrationUnit = str('concentrationUnit') as DrugEntry['concentrationUnit'];
  if (!CONC_UNITS.includes(concentrationUnit)) problems.push(`${where}: concentrationUnit must be one of ${CONC_UNITS.join(', ')}`);
  const doseUnit = str('doseUnit') as DoseUnit;
  if (!DOSE_UNITS.includes(doseUnit)) problems.push(`${where}: doseUnit must be one of ${DOSE_UNITS.join(', ')}`);
  const src = (typeof raw.limits === 'object' && raw.limits !== null ? raw.limits : raw) as Raw;
  const limits: { -readonly [K in keyof Limits]: Limits[K] } = {};
  for (const k of ['hardMin', 'softMin', 'softMax', 'hardMax'] as const) {
    const v = num(src[k]);
    if (Number.isNaN(v)) problems.push(`${where}: ${k} is not a number`);
    else if (v !== undefined) limits[k] = v;
  }
  if (limits.hardMax === undefined) problems.push(`${where}: hardMax is required (every drug needs an upper hard limit)`);
  for (const p of limitsProblems(limits)) problems.push(`${where}: ${p}`);
  const ha = raw.highAlert;
  const highAlert = ha === true || (typeof ha === 'string' && /^(true|yes|y|1)$/i.test(ha.trim()));
  if (problems.length > before) return undefined;
  return Object.freeze({ careArea, drug, concentration: concentration!, concentrationUnit, doseUnit, limits: Object.freeze(limits), highAlert });
}

/**
 * Parses a drug library from JSON (`{ "entries": [...] }` or an array) or CSV
 * (DRUG_LIBRARY_CSV_COLUMNS header). All-or-nothing: any bad row refuses the whole file with
 * every problem listed, so a half-imported library never becomes active.
 */
export function parseDrugLibrary(text: string, format: 'json' | 'csv'): DrugEntry[] {
  let rows: Raw[];
  try {
    if (format === 'json') {
      const parsed: unknown = JSON.parse(text);
      const list = Array.isArray(parsed) ? parsed : (parsed as { entries?: unknown })?.entries;
      if (!Array.isArray(list)) throw new Error('expected an array of entries or { "entries": [...] }');
      rows = list as Raw[];
    } else {
      rows = parseCsv<Raw>(text, { columns: true, skip_empty_lines: true, trim: true, bom: true });
    }
  } catch (cause) {
    throw new ClinicalError('DRUG_LIBRARY_INVALID', `cannot read the drug library as ${format}`, { cause, details: { problems: [String(cause instanceof Error ? cause.message : cause)] } });
  }
  if (rows.length === 0) throw new ClinicalError('DRUG_LIBRARY_INVALID', 'the drug library has no entries', { details: { problems: ['no entries'] } });
  if (rows.length > MAX_ENTRIES) throw new ClinicalError('DRUG_LIBRARY_INVALID', `more than ${MAX_ENTRIES} entries`, { details: { problems: ['too many entries'] } });
  const problems: string[] = [];
  const entries: DrugEntry[] = [];
  const seen = new Set<string>();
  rows.forEach((raw, i) => {
    const where = format === 'csv' ? `row ${i + 2}` : `entry ${i}`;
    if (typeof raw !== 'object' || raw === null) {
      problems.push(`${where}: not an object`);
      return;
    }
    const e = entryFrom(raw, where, problems);
    if (!e) return;
    const key = `${e.careArea}\u0000${e.drug.toLowerCase()}\u0000${e.concentration}`;
    if (seen.has(key)) problems.push(`${where}: duplicate ${e.drug} ${e.concentration} ${e.concentrationUnit} in ${e.careArea}`);
    seen.add(key);
    entries.push(e);
  });
  if (problems.length > 0) throw new ClinicalError('DRUG_LIBRARY_INVALID', `${problems.length} problem(s) in the drug library`, { details: { problems: problems.slice(0, 100) } });
  return entries;
}
