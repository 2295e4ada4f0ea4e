import { EnvironmentMismatchError, PolicyDeniedError, SecretExpiredError, isConnectorSecretsError } from '../errors.js';
import type { ResolvedSecret, SecretProvider, Sensitivity } from '../provider.js';
import { formatRef } from '../ref/formatRef.js';
import { LOGICAL_SCHEME, type SecretRef } from '../ref/types.js';
import { systemClock, type Clock } from '../handles/clock.js';
import { askApproval, type ApprovalHook, type ApprovalRequest } from './approval.js';
import { compileCrossRules, findCrossRule, type CompiledCrossRule, type CrossEnvironmentRule } from './crossEnvironment.js';
import { globTarget } from './glob.js';
import { definePolicy, isAccessPolicy, loadPolicy, moreSensitive, type AccessPolicy, type PolicyDocument } from './policy.js';

/**
 * Where a client's policy comes from: a policy made by `definePolicy`/`loadPolicy`, a document
 * given inline, or a JSON/YAML file path (optionally pinned by its SHA-256). A file is loaded on
 * the first access; until it loads, and for good if it fails to load, every access is denied.
 *
 * @example
 * ```ts
 * const source: PolicySource = { path: '/etc/connector/policy.yaml', sha256: process.env.POLICY_SHA256 };
 * ```
 */
export type PolicySource =
  | AccessPolicy
  | PolicyDocument
  | string
  | {
      /** A JSON or YAML policy file. */
      readonly path: string;
      /** The file's expected SHA-256 (hex); a different file is refused. */
      readonly sha256?: string;
    };

/** Environments where an untagged secret is denied unless `strictEnvironment: false`. */
export const STRICT_ENVIRONMENTS: readonly string[] = ['staging', 'prod'];

/** @internal What the client gives its guard. */
export interface GuardOptions {
  readonly environment: string;
  readonly identity: string | undefined;
  readonly strict: boolean | undefined;
  readonly crossEnvironment: readonly CrossEnvironmentRule[] | undefined;
  readonly policy: PolicySource | undefined;
  readonly approve: ApprovalHook | undefined;
  readonly approvalTimeoutMs: number;
  readonly now: () => number;
  /** The timers of the approval timeout (the client's clock). @default the system clock */
  readonly clock?: Clock;
  /** Told when a policy denies an access only for being outside its daily windows. */
  readonly onOutsideWindow?: (ref: string, reason: string) => void;
}

/** @internal The static guard facts of one ref, computed once per route. */
export interface GuardPlan {
  /** The canonical `scheme://path` globs match. */
  readonly target: string;
  /** Other spellings the candidates read as the same secret; deny globs cover them too. */
  readonly aliases: readonly string[];
  /** The environment the ref asks for: its `?env=`, else the process environment. */
  readonly targetEnvironment: string;
  /** The rule letting the process cross to `targetEnvironment`, when it differs. */
  readonly cross: CompiledCrossRule | undefined;
  /** Candidate providers not bound to another environment, in chain order. */
  readonly candidates: readonly SecretProvider[];
  /** Candidates skipped (never called) for being bound to another environment. */
  readonly skipped: readonly string[];
  /** Why every access to this ref is denied before any provider call, if it is. */
  readonly denial: string | undefined;
}

/** @internal What let an access through; audit records name these rules. */
export interface GuardPass {
  /** The policy rule that allowed it. */
  readonly policyRule: string | undefined;
  /** The cross-environment rule used. */
  readonly cross: CompiledCrossRule | undefined;
  /** A sensitivity that needs approval before the fetch. */
  readonly approval: Sensitivity | undefined;
  /** The policy must be asked again once the secret's sensitivity is known. */
  readonly deferred: boolean;
}

const OPEN: GuardPass = Object.freeze({ policyRule: undefined, cross: undefined, approval: undefined, deferred: false });

/**
 * @internal The environment and policy checks of one client, in the order of the design:
 * pre-fetch ({@link Guard.check}, every access, before the cache; {@link Guard.approve} before
 * any provider call) and post-fetch ({@link Guard.verify}, before the value is cached,
 * registered or returned). Each check throws the denial; nothing is ever logged here.
 */
export class Guard {
  readonly environment: string;
  readonly #identity: string | undefined;
  readonly #strict: boolean | undefined;
  readonly #cross: readonly CompiledCrossRule[];
  readonly #approve: ApprovalHook | undefined;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #clock: Clock;
  readonly #onOutsideWindow: ((ref: string, reason: string) => void) | undefined;
  #hasPolicy: boolean;
  /** Bumped by {@link Guard.replacePolicy}, so a policy file that finishes loading later does not undo a replacement. */
  #policyGeneration = 0;
  #policy: AccessPolicy | undefined;
  #policyError: Error | undefined;
  #loading: Promise<void> | undefined;

  constructor(options: GuardOptions) {
    this.environment = options.environment;
    this.#identity = options.identity;
    this.#strict = options.strict;
    this.#cross = compileCrossRules(options.crossEnvironment ?? []);
    this.#approve = options.approve;
    this.#timeoutMs = options.approvalTimeoutMs;
    this.#now = options.now;
    this.#clock = options.clock ?? systemClock;
    this.#onOutsideWindow = options.onOutsideWindow;
    const source = options.policy;
    this.#hasPolicy = source !== undefined;
    if (source === undefined) return;
    if (isAccessPolicy(source)) this.#policy = source;
    else if (typeof source === 'string' || (typeof source === 'object' && source !== null && 'path' in source)) {
      const path = typeof source === 'string' ? source : source.path;
      const pin = typeof source === 'string' || source.sha256 === undefined ? {} : { sha256: source.sha256 };
      const generation = this.#policyGeneration;
      this.#loading = loadPolicy(path, pin).then(
        (policy) => {
          if (generation === this.#policyGeneration) this.#policy = policy;
          this.#loading = undefined;
        },
        (err: unknown) => {
          if (generation === this.#policyGeneration) this.#policyError = err as Error;
          this.#loading = undefined;
        },
      );
    } else this.#policy = definePolicy(source);
  }

  /**
   * Replaces the policy (a fleet `policy-updated` event): checked by `definePolicy` first, so an
   * invalid document throws a ConfigError and the policy in force stays. From the next access on,
   * the new policy decides; values already cached are checked against it on their next access too.
   */
  replacePolicy(doc: unknown): void {
    const policy = isAccessPolicy(doc) ? doc : definePolicy(doc as PolicyDocument);
    this.#policyGeneration += 1;
    this.#policy = policy;
    this.#policyError = undefined;
    this.#hasPolicy = true;
  }

  /** Pending until a policy file has loaded (or failed to); `undefined` once settled. */
  get ready(): Promise<void> | undefined {
    return this.#loading;
  }

  /** Whether an untagged secret of `targetEnvironment` is denied. */
  strictFor(targetEnvironment: string): boolean {
    return this.#strict ?? (STRICT_ENVIRONMENTS.includes(this.environment) || STRICT_ENVIRONMENTS.includes(targetEnvironment));
  }

  /** The static facts of a ref: its target environment, the rule to cross to it, the usable candidates. */
  plan(ref: SecretRef, candidates: readonly SecretProvider[]): GuardPlan {
    const target = globTarget(ref);
    const targetEnvironment = ref.params['env'] ?? this.environment;
    let cross: CompiledCrossRule | undefined;
    let denial: string | undefined;
    if (targetEnvironment !== this.environment) {
      cross = findCrossRule(this.#cross, this.environment, targetEnvironment, target);
      if (cross === undefined) {
        denial = `the ref asks for environment "${targetEnvironment}" but this process runs in "${this.environment}", and no crossEnvironment rule allows it`;
      }
    }
    const usable = candidates.filter((p) => p.environment === undefined || p.environment === targetEnvironment);
    const skipped = candidates.filter((p) => !usable.includes(p)).map((p) => `${p.name} (${p.environment})`);
    if (usable.length === 0) {
      denial ??= `every provider serving this ref is bound to another environment than "${targetEnvironment}" (${skipped.join(', ')}); none was called`;
    }
    return { target, aliases: aliasesOf(ref, target, usable), targetEnvironment, cross, candidates: usable, skipped, denial };
  }

  /**
   * Pre-fetch checks of every access (cache hits included): environment denials of the plan,
   * then the policy (globs, validity period, daily windows, declared sensitivity).
   */
  check(key: string, plan: GuardPlan, declared: Sensitivity | undefined): GuardPass {
    if (plan.denial !== undefined) {
      throw new EnvironmentMismatchError(plan.denial, { ref: key, environment: this.environment, targetEnvironment: plan.targetEnvironment });
    }
    if (!this.#hasPolicy) return plan.cross === undefined ? OPEN : { ...OPEN, cross: plan.cross };
    const policy = this.#usablePolicy(key);
    const verdict = policy.evaluate({ target: plan.target, aliases: plan.aliases, identity: this.#identity, now: this.#now(), sensitivity: declared });
    if (!verdict.allowed) {
      if (verdict.outsideWindow) this.#onOutsideWindow?.(key, verdict.reason);
      throw new PolicyDeniedError(`denied by policy rule "${verdict.rule}": ${verdict.reason}`, { ref: key, rule: verdict.rule });
    }
    return { policyRule: verdict.rule, cross: plan.cross, approval: verdict.approval, deferred: verdict.deferred };
  }

  /** Before any provider call of a fetch: the cross-environment rule's and the policy's approvals. */
  async approve(key: string, plan: GuardPlan, pass: GuardPass): Promise<void> {
    if (pass.cross?.approve !== undefined) {
      const request = this.#request('cross-environment', key, plan, pass.cross.name, { reason: pass.cross.reason });
      const outcome = await askApproval(pass.cross.approve, request, this.#timeoutMs, this.#clock);
      if (!outcome.approved) {
        throw new EnvironmentMismatchError(`crossing to "${plan.targetEnvironment}" under rule "${pass.cross.name}" was not approved: ${outcome.why}`, {
          ref: key,
          environment: this.environment,
          targetEnvironment: plan.targetEnvironment,
        });
      }
    }
    if (pass.approval !== undefined) await this.#policyApproval(key, plan, pass.policyRule!, pass.approval);
  }

  /**
   * Post-fetch checks, before the value is cached, registered with the redactor or returned:
   * the secret's environment tag (or its absence in strict mode), its expiry, and the policy
   * again when the sensitivity was not known before the fetch or the secret's metadata labels it
   * more sensitive than declared. A denial here drops the value.
   */
  async verify(
    key: string,
    plan: GuardPlan,
    pass: GuardPass,
    provider: SecretProvider,
    resolved: ResolvedSecret,
    declared: Sensitivity | undefined,
    /** False for `describe`: an expired secret's facts are what an operator needs to see, and no credential is handed out. */
    checkExpiry = true,
  ): Promise<void> {
    const ids = { ref: key, provider: provider.name, environment: this.environment };
    const metadata = resolved.metadata;
    const tag = metadata?.environment ?? provider.environment;
    if (tag !== undefined && tag !== plan.targetEnvironment) {
      throw new EnvironmentMismatchError(
        `the secret is tagged for environment "${tag}" but was asked for in "${plan.targetEnvironment}"; the value was dropped`,
        { ...ids, targetEnvironment: tag },
      );
    }
    if (tag === undefined && this.strictFor(plan.targetEnvironment)) {
      throw new EnvironmentMismatchError(
        `the secret has no environment tag, and strict mode is on for "${plan.targetEnvironment}" (tag it, bind the provider with { environment }, or pass strictEnvironment: false); the value was dropped`,
        { ...ids },
      );
    }
    const now = this.#now();
    const expiresAt = resolved.expiresAt?.getTime() ?? parseInstant(metadata?.['expiresAt']);
    if (checkExpiry && expiresAt !== undefined && (Number.isNaN(expiresAt) || expiresAt <= now)) {
      const when = Number.isNaN(expiresAt) ? 'at an unreadable time' : `at ${new Date(expiresAt).toISOString()}`;
      throw new SecretExpiredError(`the credential expired ${when} before it arrived; the value was dropped`, { ref: key, provider: provider.name });
    }
    if (this.#policy === undefined) return;
    const known = moreSensitive(declared, metadata?.sensitivity);
    // Asked again when the sensitivity was unknown before the fetch, or the secret's own label is
    // above the declared one (a manifest cannot under-declare its way past the policy).
    if (!pass.deferred && known === declared) return;
    const sensitivity = known ?? this.#policy.defaultSensitivity;
    const verdict = this.#policy.evaluate({ target: plan.target, aliases: plan.aliases, identity: this.#identity, now, sensitivity });
    if (!verdict.allowed) {
      throw new PolicyDeniedError(`denied by policy rule "${verdict.rule}": ${verdict.reason}; the value was dropped`, {
        ref: key,
        provider: provider.name,
        rule: verdict.rule,
      });
    }
    if (verdict.approval !== undefined) await this.#policyApproval(key, plan, verdict.rule, verdict.approval);
  }

  async #policyApproval(key: string, plan: GuardPlan, rule: string, sensitivity: Sensitivity): Promise<void> {
    if (this.#approve === undefined) {
      throw new PolicyDeniedError(`policy rule "${rule}" requires approval for ${sensitivity} secrets, and the client has no approve hook`, {
        ref: key,
        rule,
      });
    }
    const outcome = await askApproval(this.#approve, this.#request('policy', key, plan, rule, { sensitivity }), this.#timeoutMs, this.#clock);
    if (!outcome.approved) {
      throw new PolicyDeniedError(`policy rule "${rule}" requires approval, which was not given: ${outcome.why}`, { ref: key, rule });
    }
  }

  #usablePolicy(key: string): AccessPolicy {
    if (this.#policy !== undefined) return this.#policy;
    const cause = this.#policyError;
    const why = cause === undefined ? 'the policy file has not loaded yet' : isConnectorSecretsError(cause) ? cause.message : 'it could not be loaded';
    throw new PolicyDeniedError(`the access policy is unusable, so every access is denied: ${why}`, { ref: key, rule: '(policy file)', cause });
  }

  #request(
    kind: ApprovalRequest['kind'],
    ref: string,
    plan: GuardPlan,
    rule: string,
    extra: { reason?: string; sensitivity?: Sensitivity },
  ): ApprovalRequest {
    return { kind, ref, identity: this.#identity, environment: this.environment, targetEnvironment: plan.targetEnvironment, rule, ...extra };
  }
}

/**
 * Every other spelling the candidates read as the same secret (their `aliases`, or the default:
 * a logical provider reads `secret://p` and `<scheme>://p` as one secret).
 */
function aliasesOf(ref: SecretRef, target: string, candidates: readonly SecretProvider[]): readonly string[] {
  const out = new Set<string>();
  for (const provider of candidates) {
    const list = provider.aliases !== undefined ? provider.aliases(ref) : defaultAliases(provider, ref);
    for (const alias of list) if (alias !== target) out.add(alias);
  }
  return [...out];
}

function defaultAliases(provider: SecretProvider, ref: SecretRef): string[] {
  if (provider.logical !== true) return [];
  const parts = { path: ref.path, segments: ref.segments, params: {} };
  if (!ref.logical) return [formatRef({ scheme: LOGICAL_SCHEME, ...parts })];
  return provider.schemes.filter((s) => s !== '*').map((scheme) => formatRef({ scheme, ...parts }));
}

function parseInstant(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return Date.parse(text);
}
