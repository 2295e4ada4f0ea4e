/** What {@link parseStrictJson} returns: the value, or why the text is refused (never quoting it). */
export type StrictJsonResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

const MAX_DEPTH = 32;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Thrown inside the parser only, to unwind with a reason. */
class Refused extends Error {}

/**
 * Parses one JSON text like `JSON.parse`, but refuses a duplicate key at any depth (which
 * `JSON.parse` silently resolves to the last one, while other readers take the first) and
 * nesting deeper than 32. Objects have no prototype, so a `__proto__` key is an ordinary key.
 * Reasons name the offset, never the text: the input may be a file that is not an audit log.
 *
 * @example
 * ```ts
 * parseStrictJson('{"a":1,"a":2}'); // { ok: false, reason: 'duplicate key (at offset 7)' }
 * ```
 */
export function parseStrictJson(text: string): StrictJsonResult {
  let i = 0;
  const refuse = (what: string): never => {
    throw new Refused(`${what} (at offset ${i})`);
  };
  const space = () => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++i));
  };

  const string = (): string => {
    const start = i;
    for (i += 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) i += 1;
      else if (c < 0x20) refuse('control character in a string');
    }
    if (i >= text.length) refuse('unterminated string');
    i += 1;
    try {
      // The escapes are JSON's; JSON.parse decodes them exactly as every other reader does.
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return refuse('invalid escape in a string');
    }
  };

  const value = (depth: number): unknown => {
    space();
    const c = text[i];
    if (c === '{') {
      if (depth >= MAX_DEPTH) refuse('nested too deeply');
      i += 1;
      const obj = Object.create(null) as Record<string, unknown>;
      const seen = new Set<string>();
      space();
      if (text[i] === '}') {
        i += 1;
        return obj;
      }
      for (;;) {
        space();
        if (text[i] !== '"') refuse('expected a key');
        const at = i;
        const key = string();
        if (seen.has(key)) {
          i = at;
          refuse('duplicate key');
        }
        seen.add(key);
        space();
        if (text[i] !== ':') refuse('expected ":"');
        i += 1;
        obj[key] = value(depth + 1);
        space();
        if (text[i] === ',') {
          i += 1;
          continue;
        }
        if (text[i] === '}') {
          i += 1;
          return obj;
        }
        refuse('expected "," or "}"');
      }
    }
    if (c === '[') {
      if (depth >= MAX_DEPTH) refuse('nested too deeply');
      i += 1;
      const arr: unknown[] = [];
      space();
      if (text[i] === ']') {
        i += 1;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        space();
        if (text[i] === ',') {
          i += 1;
          continue;
        }
        if (text[i] === ']') {
          i += 1;
          return arr;
        }
        refuse('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null || m[0] === '' || m[0] === '-') return refuse(i >= text.length ? 'unexpected end' : 'unexpected character');
    i += m[0].length;
    return Number(m[0]);
  };

  try {
    const v = value(0);
    space();
    if (i !== text.length) refuse('trailing data after the JSON value');
    return { ok: true, value: v };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, reason: err.message };
    throw err;
  }
}
