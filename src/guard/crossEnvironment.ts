import { ConfigError } from '../errors.js';
import type { ApprovalHook } from './approval.js';
import { compileRefGlob, type RefGlob } from './glob.js';

/**
 * An explicit permission to cross environments: a process of environment `from` may read refs
 * matching `refs` that name environment `to` with `?env=<to>`. Every use is audited with the
 * rule's name and reason; `approve`, when given, is asked before any provider is called.
 *
 * @example
 * ```ts
 * createSecrets({
 *   environment: 'staging',
 *   crossEnvironment: [{
 *     name: 'prod-readonly-replica', from: 'staging', to: 'prod',
 *     refs: 'secret://orders-db-replica/**', reason: 'staging reconciles against the prod replica',
 *     approve: async (req) => changeTickets.isOpen(req.identity),
 *   }],
 *   // … then: await secrets.get('secret://orders-db-replica/password?env=prod')
 * });
 * ```
 */
export interface CrossEnvironmentRule {
  /**
   * Shown in audit records and errors.
   * @default `crossEnvironment[<index>]`
   */
  readonly name?: string;
  /** The process environment it applies to, or `'*'` for any. */
  readonly from: string;
  /** The environment it lets the process read. */
  readonly to: string;
  /** Ref globs (matched exactly against the canonical `scheme://path`). */
  readonly refs: string | readonly string[];
  /** Why the crossing is needed; required, and written to every audit record of its use. */
  readonly reason: string;
  /** Asked before each fetch under this rule; anything but `true` in time denies. */
  readonly approve?: ApprovalHook;
}

/** A validated cross-environment rule. */
export interface CompiledCrossRule {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly refs: readonly RefGlob[];
  readonly reason: string;
  readonly approve: ApprovalHook | undefined;
}

const TAG = /^[a-z][a-z0-9_-]*$/;

/**
 * Validates cross-environment rules.
 *
 * @throws {@link ConfigError} naming the rule and what is wrong.
 */
export function compileCrossRules(rules: readonly CrossEnvironmentRule[]): CompiledCrossRule[] {
  const names = new Set<string>();
  return rules.map((rule, i) => {
    const name = rule.name ?? `crossEnvironment[${i}]`;
    const where = `crossEnvironment rule "${name}"`;
    if (names.has(name)) throw new ConfigError(`${where}: the name is used twice`);
    names.add(name);
    if (rule.from !== '*' && !TAG.test(rule.from)) throw new ConfigError(`${where}: from must be an environment tag or '*'`);
    if (!TAG.test(rule.to)) throw new ConfigError(`${where}: to must be an environment tag`);
    if (rule.from === rule.to) throw new ConfigError(`${where}: from and to are the same environment`);
    if (typeof rule.reason !== 'string' || rule.reason.trim() === '') throw new ConfigError(`${where}: a reason is required`);
    if (rule.approve !== undefined && typeof rule.approve !== 'function') throw new ConfigError(`${where}: approve must be a function`);
    const globs = typeof rule.refs === 'string' ? [rule.refs] : rule.refs;
    if (!Array.isArray(globs) || globs.length === 0) throw new ConfigError(`${where}: refs must name at least one ref glob`);
    const refs: RefGlob[] = globs.map((g, j) => {
      try {
        return compileRefGlob(g);
      } catch (err) {
        // compileRefGlob never quotes the glob, so its reason is passed on with the field named.
        throw new ConfigError(`${where}: refs[${j}]: ${(err as Error).message}`, { cause: err });
      }
    });
    return { name, from: rule.from, to: rule.to, refs, reason: rule.reason, approve: rule.approve };
  });
}

/** The first rule letting `from` read `to` for the glob target `target`, if any. */
export function findCrossRule(
  rules: readonly CompiledCrossRule[],
  from: string,
  to: string,
  target: string,
): CompiledCrossRule | undefined {
  return rules.find((r) => (r.from === '*' || r.from === from) && r.to === to && r.refs.some((g) => g.test(target)));
}
