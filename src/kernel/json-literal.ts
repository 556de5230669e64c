/**
 * The text of a number as written in a JSON document. JSON.parse turns every number into a
 * double, and a double cannot say how many fraction digits its literal had
 * (`1.100000000000000000001` and `1.1` are the same double): money needs the text.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

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

/** Whether the string token json[open..close] names `member` (escapes decoded, as JSON.parse does). */
function names(json: string, open: number, close: number, member: string): boolean {
  for (let i = open + 1; i < close; i++) {
    if (json.charCodeAt(i) === BACKSLASH) return JSON.parse(json.slice(open, close + 1)) === member;
  }
  return close - open - 1 === member.length && json.startsWith(member, open + 1);
}

/**
 * The literal of top-level member `member` when its value is a number (`"1e2"`, `"-0.5"`),
 * else undefined. `json` must be text JSON.parse has accepted as an object: the scan checks no
 * syntax, it only skips strings and counts brackets. A repeated member gives its last
 * occurrence, the one JSON.parse keeps.
 */
export function topLevelNumberLiteral(json: string, member: string): string | undefined {
  let found: string | undefined;
  let depth = 0;
  // at depth 1 (inside the top-level object) the string after `{` or `,` is a member name
  let nameNext = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === QUOTE) {
      const open = i;
      const close = stringEnd(json, open);
      i = close;
      if (!nameNext) continue;
      nameNext = false;
      if (!names(json, open, close, member)) continue;
      let j = close + 1;
      while (isJsonSpace(json.charCodeAt(j)) || json.charCodeAt(j) === COLON) j++;
      const start = j;
      while (j < json.length && isNumberChar(json.charCodeAt(j))) j++;
      found = j > start ? json.slice(start, j) : undefined;
      // resume at the value: a string, object or array there is skipped like any other
      i = start - 1;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      nameNext = depth === 1 && c === OPEN_BRACE;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    } else if (c === COMMA && depth === 1) {
      nameNext = true;
    }
  }
  return found;
}
