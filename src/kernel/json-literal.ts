/**
 * The text of a number as written in a JSON document. JSON.parse turns every number into a
 * double, and a double cannot say how many fraction digits its literal had
 * (`1.100000000000000000001` and `1.1` are the same double): money needs the text.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
// the first letters of true, false and null
const LETTER_T = 0x74;
const LETTER_F = 0x66;
const LETTER_N = 0x6e;

/** Digits, sign, point and exponent: every character a JSON number literal may hold. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}

/** Index of the quote closing the string opened at `open`. */
function stringEnd(json: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const quote = json.indexOf('"', from);
    if (quote < 0) return json.length;
    let backslashes = 0;
    while (json.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** The member name of the string token json[open..close], escapes decoded as JSON.parse does. */
function memberName(json: string, open: number, close: number): string {
  for (let i = open + 1; i < close; i++) {
    if (json.charCodeAt(i) === BACKSLASH) return JSON.parse(json.slice(open, close + 1)) as string;
  }
  return json.slice(open + 1, close);
}

/** Where a value sits in a document: member names and array indexes from the top. */
export type JsonPath = ReadonlyArray<string | number>;

/** The numbers of a document by where they sit: a tree shaped like JSON.parse's result. */
interface LiteralNode {
  literal?: string;
  children?: Map<string | number | symbol, LiteralNode>;
}

/** The number literals of one document (numberLiterals). */
export interface NumberLiterals {
  /** The literal of the number at `path`, as written; undefined where no number is. */
  at(path: JsonPath): string | undefined;
}

const ROOT = Symbol('root');

/**
 * Every number literal of `json` by its path: in `{"goods":[{"price":1.10}]}` the one at
 * `['goods', 0, 'price']` is `1.10`. `json` must be text JSON.parse has accepted: the scan
 * checks no syntax, it only skips strings and follows brackets. Each value replaces what an
 * earlier occurrence of its member left, as in JSON.parse (the last of a repeated member wins).
 * Linear in the text whatever its nesting: no step looks at the whole path.
 */
export function numberLiterals(json: string): NumberLiterals {
  const top: LiteralNode = { children: new Map() };
  // per open container: its node, whether it is an object, and the member or index being read
  const stack: Array<{ node: LiteralNode; inObject: boolean; at: string | number | typeof ROOT }> = [{ node: top, inObject: false, at: ROOT }];
  const place = (value: LiteralNode | undefined): void => {
    const container = stack[stack.length - 1];
    if (!container?.node.children) return;
    if (value) container.node.children.set(container.at, value);
    else container.node.children.delete(container.at);
  };
  // inside an object, the string after `{` or `,` is a member name
  let nameNext = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === QUOTE) {
      const close = stringEnd(json, i);
      const container = stack[stack.length - 1];
      if (nameNext && container) {
        container.at = memberName(json, i, close);
        nameNext = false;
      } else {
        place(undefined);
      }
      i = close;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const node: LiteralNode = { children: new Map() };
      place(node);
      stack.push({ node, inObject: c === OPEN_BRACE, at: c === OPEN_BRACE ? '' : 0 });
      nameNext = c === OPEN_BRACE;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      stack.pop();
    } else if (c === COMMA) {
      const container = stack[stack.length - 1];
      if (container?.inObject) nameNext = true;
      else if (container) container.at = (container.at as number) + 1;
    } else if (c === MINUS || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < json.length && isNumberChar(json.charCodeAt(j))) j++;
      place({ literal: json.slice(i, j) });
      i = j - 1;
    } else if (c === LETTER_T || c === LETTER_F || c === LETTER_N) {
      place(undefined);
    }
  }
  return {
    at(path) {
      let node = top.children?.get(ROOT);
      for (const step of path) node = node?.children?.get(step);
      return node?.literal;
    },
  };
}
