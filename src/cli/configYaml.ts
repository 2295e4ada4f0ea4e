// `connector-secrets.config.yaml`: parsed with the optional `yaml` peer, keeping the source
// positions so a validation error names the line of the field, not only its path.
import type { Document, LineCounter } from 'yaml';
import { ConfigError } from '../errors.js';
import { peerLoadError } from '../peer.js';

/** A parsed YAML configuration: the plain document, and the line (1-based) of a field path where it can be found. */
export interface YamlConfig {
  readonly doc: unknown;
  /** The line of the deepest existing node along `path` (a missing field is reported at its parent). */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

/**
 * Parses `text` (the file `file`). Syntax errors are ConfigErrors with the line, column and the
 * parser's rule code, never its message (which quotes the line: a config may hold a pasted secret).
 */
export async function parseYamlConfig(text: string, file: string): Promise<YamlConfig> {
  let yaml: typeof import('yaml');
  try {
    // A literal specifier, so that bundlers include yaml when the consumer has it.
    yaml = await import('yaml');
  } catch (err) {
    throw peerLoadError('yaml', 'YAML configuration files', err, '(or use connector-secrets.config.json)');
  }
  const lines: LineCounter = new yaml.LineCounter();
  const document: Document.Parsed = yaml.parseDocument(text, { lineCounter: lines, schema: 'core', uniqueKeys: true, prettyErrors: false });
  const error = document.errors[0];
  if (error !== undefined) {
    const pos = lines.linePos(error.pos[0]);
    const code = /^[A-Z_]+$/.test(error.code) ? ` ${error.code}` : '';
    throw new ConfigError(`the configuration ${file} is not valid YAML (a syntax error${code} at line ${pos.line}, column ${pos.col}; the content is not shown)`);
  }
  let doc: unknown;
  try {
    doc = document.toJS({ maxAliasCount: 100 });
  } catch {
    throw new ConfigError(`the configuration ${file} is not valid YAML (too many aliases, or an alias to nothing; the content is not shown)`);
  }
  return {
    doc,
    lineOf(path) {
      for (let n = path.length; n >= 0; n--) {
        const node = n === 0 ? document.contents : document.getIn(path.slice(0, n) as unknown[], true);
        const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
        if (yaml.isNode(node) && range !== undefined) {
          // A key's line reads better than its value's, which may start on the next line.
          const parent = n === 0 ? undefined : n === 1 ? document.contents : document.getIn(path.slice(0, n - 1) as unknown[], true);
          if (yaml.isMap(parent)) {
            const pair = parent.items.find((p) => yaml.isScalar(p.key) && p.key.value === path[n - 1]);
            const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
            if (keyRange !== undefined) return lines.linePos(keyRange[0]).line;
          }
          return lines.linePos(range[0]).line;
        }
      }
      return undefined;
    },
  };
}
