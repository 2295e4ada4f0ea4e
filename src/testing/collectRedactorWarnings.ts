import type { RedactorWarning } from '../redact/options.js';
import { setWarningCollector } from '../redact/redactor.js';

/** The warnings collected by {@link collectRedactorWarnings}, until `stop()`. */
export interface CollectedWarnings {
  /** Every warning since the call, in order (each names a ref and a kind, never a value). */
  readonly warnings: readonly RedactorWarning[];
  /** Prints warnings again (once per kind and ref per process) and stops collecting. */
  stop(): void;
}

/**
 * Collects the redactor's warnings (a value too short to mask, a common word) for assertions,
 * instead of printing them, for every client whose `redaction` options set no `onWarning`.
 *
 * @example
 * ```ts
 * const collected = collectRedactorWarnings();
 * afterEach(() => collected.stop());
 * // …
 * expect(collected.warnings).toEqual([expect.objectContaining({ code: 'SHORT_VALUE', ref: 'env://PIN' })]);
 * ```
 */
export function collectRedactorWarnings(): CollectedWarnings {
  const warnings: RedactorWarning[] = [];
  setWarningCollector((w) => void warnings.push(w));
  return { warnings, stop: () => setWarningCollector(undefined) };
}
