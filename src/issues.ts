import type { z } from 'zod';

/**
 * Zod's issues as one line, `path: reason; …`, without any part of the input: option objects,
 * manifests and policy files may hold a pasted secret, even where a key name belongs.
 *
 * Zod's own message is used except for unknown keys, whose message quotes the key: those are
 * counted instead. Reasons otherwise name types, limits and formats, or are our own custom messages.
 *
 * @internal
 * @example
 * ```ts
 * describeIssues(schema.safeParse(options).error!.issues, '(options)'); // 'cache.ttlMs: Invalid input: expected number, received string'
 * ```
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], root: string): string {
  return issues.map((issue) => `${pathOf(issue) || root}: ${reasonOf(issue)}`).join('; ');
}

function reasonOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const n = issue.keys.length;
    return `${n} unknown key${n === 1 ? '' : 's'} (not shown; compare with the documented fields)`;
  }
  return issue.message;
}

/** The path, with keys that are not plain identifiers (record keys come from the input) replaced by `[key]`. */
function pathOf(issue: z.core.$ZodIssue): string {
  return issue.path.map((p) => (typeof p === 'number' ? String(p) : typeof p === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(p) ? p : '[key]')).join('.');
}
