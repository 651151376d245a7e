import cvss from 'ae-cvss-calculator';

// ae-cvss-calculator ships CommonJS; its named exports are only reachable from the default.
const { Cvss3P0, Cvss3P1, Cvss4P0 } = cvss;

export const CRITICALITIES = ['life-sustaining', 'therapy', 'monitoring', 'non-clinical'] as const;
export type Criticality = (typeof CRITICALITIES)[number];
export const EXPOSURES = ['internet', 'hospital-network', 'segmented', 'isolated'] as const;
export type Exposure = (typeof EXPOSURES)[number];

// Weights of docs/vulnerabilities.md "Risk score"; change both together.
const CRITICALITY_WEIGHT: Readonly<Record<Criticality, number>> = { 'life-sustaining': 1.0, therapy: 0.85, monitoring: 0.7, 'non-clinical': 0.4 };
const EXPOSURE_WEIGHT: Readonly<Record<Exposure, number>> = { internet: 1.0, 'hospital-network': 0.8, segmented: 0.5, isolated: 0.25 };
const UNSCORED_SEVERITY = 5.0;
const MISSING_EPSS = 0.01;

export interface RiskVulnInput {
  readonly vulnId: string;
  readonly cvss31Vector: string | null;
  readonly cvss40Vector: string | null;
  readonly kev: boolean;
  readonly epss: number | null;
}

export interface RiskProfile {
  readonly criticality: Criticality;
  readonly exposure: Exposure;
  readonly endOfSupportAtMs: number | null;
  /** True when no profile was recorded for the model and the defaults were used. */
  readonly defaulted: boolean;
}

export interface VulnRisk {
  readonly vulnId: string;
  readonly severity: number;
  readonly severitySource: 'cvss4.0' | 'cvss3.1' | 'cvss3.0' | 'unscored';
  readonly likelihood: number;
  readonly contribution: number;
}

export interface DeviceRisk {
  readonly score: number;
  readonly band: 'critical' | 'high' | 'medium' | 'low' | 'none';
  readonly factors: {
    readonly vulnerability: number;
    readonly criticalityWeight: number;
    readonly exposureWeight: number;
    readonly endOfSupportFactor: number;
  };
  readonly vulns: readonly VulnRisk[];
  readonly explanation: readonly string[];
}

/** CVSS base score from a vector with ae-cvss-calculator; 4.0 preferred over 3.x. */
export function baseScore(v: Pick<RiskVulnInput, 'cvss31Vector' | 'cvss40Vector'>): { score: number; source: VulnRisk['severitySource'] } {
  try {
    if (v.cvss40Vector) return { score: new Cvss4P0(v.cvss40Vector).calculateScores().base ?? UNSCORED_SEVERITY, source: 'cvss4.0' };
  } catch { /* malformed vector: fall through to 3.x */ }
  try {
    if (v.cvss31Vector?.startsWith('CVSS:3.1/')) return { score: new Cvss3P1(v.cvss31Vector).calculateScores().base ?? UNSCORED_SEVERITY, source: 'cvss3.1' };
    if (v.cvss31Vector?.startsWith('CVSS:3.0/')) return { score: new Cvss3P0(v.cvss31Vector).calculateScores().base ?? UNSCORED_SEVERITY, source: 'cvss3.0' };
  } catch { /* malformed vector: unscored */ }
  return { score: UNSCORED_SEVERITY, source: 'unscored' };
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Device risk 0-100 (formula in docs/vulnerabilities.md): each affected vulnerability
 * contributes severity/10 x likelihood (1 if in KEV, else 0.2 + 0.8 x EPSS); contributions
 * combine as 1 - prod(1 - c); then x criticality x exposure x end-of-support factor, capped at 100.
 */
export function deviceRisk(vulns: readonly RiskVulnInput[], profile: RiskProfile, pastEosComponents: number, nowMs: number): DeviceRisk {
  const scored: VulnRisk[] = vulns.map((v) => {
    const { score, source } = baseScore(v);
    const likelihood = v.kev ? 1 : 0.2 + 0.8 * (v.epss ?? MISSING_EPSS);
    return { vulnId: v.vulnId, severity: score, severitySource: source, likelihood: round(likelihood, 3), contribution: round((score / 10) * likelihood, 4) };
  }).sort((a, b) => b.contribution - a.contribution);
  const vulnerability = 1 - scored.reduce((p, v) => p * (1 - v.contribution), 1);
  const modelPastEos = profile.endOfSupportAtMs !== null && profile.endOfSupportAtMs <= nowMs;
  const endOfSupportFactor = 1 + (modelPastEos ? 0.25 : 0) + 0.05 * Math.min(5, pastEosComponents);
  const criticalityWeight = CRITICALITY_WEIGHT[profile.criticality];
  const exposureWeight = EXPOSURE_WEIGHT[profile.exposure];
  const score = round(Math.min(100, 100 * vulnerability * criticalityWeight * exposureWeight * endOfSupportFactor), 1);
  const band = score >= 70 ? 'critical' : score >= 40 ? 'high' : score >= 15 ? 'medium' : score > 0 ? 'low' : 'none';
  const explanation = [
    `${scored.length} affected vulnerabilities combine to ${round(vulnerability, 3)} (1 - prod(1 - severity/10 x likelihood))`,
    ...scored.slice(0, 5).map((v) => `${v.vulnId}: severity ${v.severity} (${v.severitySource}) x likelihood ${v.likelihood}${vulns.find((x) => x.vulnId === v.vulnId)?.kev ? ' (CISA KEV: exploited)' : ''} = ${v.contribution}`),
    `clinical criticality ${profile.criticality}: x${criticalityWeight}${profile.defaulted ? ' (default: no profile recorded for the model)' : ''}`,
    `exposure ${profile.exposure}: x${exposureWeight}`,
    `end of support: x${round(endOfSupportFactor)}${modelPastEos ? ' (model past end of support)' : ''}${pastEosComponents > 0 ? ` (${pastEosComponents} components past end of support)` : ''}`,
    `score ${score} (${band})`,
  ];
  return { score, band, factors: { vulnerability: round(vulnerability, 4), criticalityWeight, exposureWeight, endOfSupportFactor: round(endOfSupportFactor) }, vulns: scored, explanation };
}
