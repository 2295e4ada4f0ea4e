import { systemClock, type Clock } from '../handles/clock.js';
import type { Sensitivity } from '../provider.js';

/**
 * What an approval hook is asked: who wants which ref, from which environment to which, and under
 * which rule. It carries no value.
 *
 * @example
 * ```ts
 * const approve = async (req: ApprovalRequest) => (await pager.ask(`${req.identity} wants ${req.ref}: ${req.reason}`)) === 'yes';
 * ```
 */
export interface ApprovalRequest {
  /** Why approval is needed: a cross-environment rule, or a policy rule's `requireApproval`. */
  readonly kind: 'cross-environment' | 'policy';
  /** The canonical ref (without `#field`). */
  readonly ref: string;
  /** The connector identity, when the client has one. */
  readonly identity: string | undefined;
  /** The environment of the process. */
  readonly environment: string;
  /** The environment the secret belongs to. */
  readonly targetEnvironment: string;
  /** The name of the rule that asks for approval. */
  readonly rule: string;
  /** The rule's stated reason (cross-environment rules). */
  readonly reason?: string;
  /** The secret's sensitivity, when approval is asked because of it. */
  readonly sensitivity?: Sensitivity;
}

/**
 * An approval hook: resolves `true` to approve. Anything else — `false`, a throw, a rejection,
 * or no answer within the client's `approvalTimeoutMs` — denies.
 */
export type ApprovalHook = (request: ApprovalRequest) => boolean | Promise<boolean>;

/** The outcome of one approval: approved, or why not (never a value). */
export type ApprovalOutcome = { readonly approved: true } | { readonly approved: false; readonly why: string };

/**
 * Asks `hook`; only a strict `true` within `timeoutMs` approves.
 *
 * @example
 * ```ts
 * const outcome = await askApproval(hook, request, 30_000);
 * if (!outcome.approved) throw new PolicyDeniedError(`approval denied: ${outcome.why}`);
 * ```
 */
export async function askApproval(hook: ApprovalHook, request: ApprovalRequest, timeoutMs: number, clock: Clock = systemClock): Promise<ApprovalOutcome> {
  let timer: unknown;
  // The caller awaits the answer or this timeout, so the timer keeps the process alive.
  const timeout = new Promise<ApprovalOutcome>((resolve) => {
    timer = clock.setTimeout(() => resolve({ approved: false, why: `the approval hook gave no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const answer = (async (): Promise<ApprovalOutcome> => {
    try {
      const result = await hook(Object.freeze({ ...request }));
      return result === true ? { approved: true } : { approved: false, why: 'the approval hook refused' };
    } catch (err) {
      // The hook's own message is not repeated: it is user code and may quote anything.
      return { approved: false, why: `the approval hook failed (${err instanceof Error ? err.name : typeof err})` };
    }
  })();
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clock.clearTimeout(timer);
  }
}
