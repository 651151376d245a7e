/** What the error catalogue holds for one code: HTTP status and the docs/errors.md line. */
export interface ErrorSpec {
  readonly status: number;
  readonly meaning: string;
  readonly fix: string;
}

export type ErrorCatalogue<C extends string = string> = { readonly [K in C]: ErrorSpec };

/** Declares a domain's error codes once; the type of the result names them. */
export function defineErrors<const T extends Record<string, ErrorSpec>>(catalogue: T): Readonly<T> {
  return Object.freeze(catalogue);
}

export interface MedTrustErrorOptions {
  readonly cause?: unknown;
  /** Safe-to-show facts that help the caller fix the request (never secrets or PHI). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error type of the platform. Domains subclass it with their own code union
 * (`class PkiError extends MedTrustError<PkiErrorCode> {}`); the HTTP layer maps the code to a
 * status through the error catalogue.
 */
export class MedTrustError<C extends string = string> extends Error {
  readonly code: C;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: C, message: string, options: MedTrustErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
  }
}

export function isMedTrustError(e: unknown): e is MedTrustError {
  return e instanceof MedTrustError;
}
