/**
 * JSON reader for Dataverse messages that loses no digits.
 *
 * JSON.parse turns every number into a double, so an int64 `versionnumber`
 * above 2^53 or a Money value with more than 15 significant digits comes out
 * rounded. This reader returns the same values as JSON.parse except that such
 * numbers become `ExactNumber`s holding the literal text. Numbers a double
 * reproduces exactly stay plain numbers, so the result looks like ordinary
 * parsed JSON to every other reader.
 */
import { canonicalDecimal } from './decimalText';
import { ExactNumber } from './exactNumber';

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// A JSON string: no unescaped quote, backslash or C0 control character (RFC 8259; U+007F and above are allowed).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const STRING = /"(?:[^"\\\u0000-\u001f]|\\.)*"/y;
const WHITESPACE = /[ \t\n\r]*/y;
/** Nesting beyond this is not a Dataverse message; stop before the stack does. */
const MAX_DEPTH = 200;

export function readDataverseJson(text: string): unknown {
  const reader = new Reader(text);
  const value = reader.value(0);
  reader.skipWhitespace();
  if (reader.at < text.length) reader.fail('unexpected text after the JSON value');
  return value;
}

/** Whether a double holds this literal exactly (its shortest text is the same decimal). */
function doubleKeeps(literal: string): boolean {
  const n = Number(literal);
  if (!Number.isFinite(n)) return false;
  try {
    return canonicalDecimal(String(n)) === canonicalDecimal(literal);
  } catch {
    return false;
  }
}

class Reader {
  at = 0;

  constructor(private readonly text: string) {}

  fail(problem: string): never {
    throw new SyntaxError(`JSON at position ${this.at}: ${problem}`);
  }

  skipWhitespace(): void {
    WHITESPACE.lastIndex = this.at;
    WHITESPACE.exec(this.text);
    this.at = WHITESPACE.lastIndex;
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    this.skipWhitespace();
    const c = this.text[this.at];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    return this.number();
  }

  private match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.at;
    const m = pattern.exec(this.text);
    if (!m) return undefined;
    this.at = pattern.lastIndex;
    return m[0];
  }

  private number(): number | ExactNumber {
    const literal = this.match(NUMBER);
    if (literal === undefined) this.fail('expected a JSON value');
    return doubleKeeps(literal) ? Number(literal) : new ExactNumber(literal);
  }

  private string(): string {
    const literal = this.match(STRING);
    if (literal === undefined) this.fail('unterminated or invalid string');
    // JSON.parse validates the escapes (\uXXXX, \/ …) of this one token.
    return JSON.parse(literal) as string;
  }

  private expect(char: string): void {
    this.skipWhitespace();
    if (this.text[this.at] !== char) this.fail(`expected "${char}"`);
    this.at++;
  }

  private closes(char: string): boolean {
    this.skipWhitespace();
    if (this.text[this.at] !== char) return false;
    this.at++;
    return true;
  }

  private array(depth: number): unknown[] {
    this.expect('[');
    const items: unknown[] = [];
    if (this.closes(']')) return items;
    do items.push(this.value(depth + 1));
    while (this.closes(','));
    this.expect(']');
    return items;
  }

  private object(depth: number): Record<string, unknown> {
    this.expect('{');
    const result: Record<string, unknown> = {};
    if (this.closes('}')) return result;
    do {
      this.skipWhitespace();
      if (this.text[this.at] !== '"') this.fail('expected a property name');
      const key = this.string();
      this.expect(':');
      const value = this.value(depth + 1);
      // As JSON.parse does: a "__proto__" key is data, never the prototype.
      Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
    } while (this.closes(','));
    this.expect('}');
    return result;
  }
}
