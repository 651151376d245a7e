// csaf-validator-lib ships JavaScript with JSDoc only; these are the parts MedTrust calls.
declare module '@secvisogram/csaf-validator-lib/validateStrict.js' {
  interface CsafTestResult {
    readonly name: string;
    readonly isValid: boolean;
    readonly errors: ReadonlyArray<{ readonly instancePath: string; readonly message: string }>;
  }
  export default function validateStrict(tests: readonly unknown[], doc: unknown): Promise<{ readonly isValid: boolean; readonly tests: readonly CsafTestResult[] }>;
}
declare module '@secvisogram/csaf-validator-lib/mandatoryTests.js' {
  const tests: Readonly<Record<string, unknown>>;
  export = tests;
}
declare module '@secvisogram/csaf-validator-lib/schemaTests.js' {
  export const csaf_2_0_strict: unknown;
}
