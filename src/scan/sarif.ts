/**
 * SARIF 2.1.0 output (OASIS Static Analysis Results Interchange Format), the shape GitHub code
 * scanning and other dashboards read: one run, the tool's rules, and one result per finding with
 * its location and a partial fingerprint. Messages name the rule, the length and (for a known
 * value) the ref, never the value.
 *
 * @module
 */
import { RULES, RULE_IDS } from './rules.js';
import type { Finding } from './scan.js';

/** The `partialFingerprints` key of our fingerprints. */
export const FINGERPRINT_KEY = 'connectorSecretsFingerprint/v1';

/** A SARIF 2.1.0 log of `findings`. */
export function toSarif(findings: readonly Finding[], tool: { readonly version: string }): object {
  const index = new Map(RULE_IDS.map((id, i) => [id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'connector-secrets',
            version: tool.version,
            informationUri: 'https://github.com/connector-secrets/connector-secrets/blob/main/docs/operations.md#scanning',
            rules: RULE_IDS.map((id) => ({
              id,
              name: id.replace(/(^|-)([a-z0-9])/g, (_m, _d: string, c: string) => c.toUpperCase()),
              shortDescription: { text: RULES[id].description },
              fullDescription: { text: `${RULES[id].description}. Remove it from the file and rotate it; silence a false positive with a "connector-secrets:allow ${id}" comment or a baseline.` },
              defaultConfiguration: { level: 'error' },
              properties: { tags: ['security', 'secret'] },
            })),
          },
        },
        columnKind: 'utf16CodeUnits',
        results: findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: index.get(f.rule),
          level: 'error',
          message: { text: message(f) },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: encodeURI(f.file), uriBaseId: '%SRCROOT%' },
                region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn },
              },
            },
          ],
          partialFingerprints: { [FINGERPRINT_KEY]: f.fingerprint },
          baselineState: f.baselined ? 'unchanged' : 'new',
        })),
      },
    ],
  };
}

/** The one-line message of a finding: what, how long, whose (never the value). */
export function message(f: Finding): string {
  return f.ref === undefined ? `${RULES[f.rule].description} (${f.length} characters)` : `The value of ${f.ref} (${f.length} characters)`;
}
