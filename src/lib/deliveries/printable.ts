/**
 * Text that came from a sender (a delivery's fields, a request path, a parse error quoting the body) made safe to
 * print on a terminal: control characters (C0, DEL, C1: ESC and CSI start terminal sequences), line and paragraph
 * separators, and the invisible formatting and direction marks that can make a line read as something else, are shown
 * as escapes (`\x1b`, `\u202e`); and the text is cut to a sensible length.
 */

// C0, DEL and C1 controls; zero-width and direction marks; line/paragraph separators; embedding/isolate controls; BOM
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF]/g
// eslint-disable-next-line no-control-regex
const UNSAFE_TEST = /[\u0000-\u001F\u007F-\u009F\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF]/
// what JSON.stringify leaves as it is among those
const JSON_UNSAFE = /[\u007F-\u009F\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF]/g
const JSON_UNSAFE_TEST = /[\u007F-\u009F\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF]/

/** Longest sender-supplied value printed in a line or echoed in an error. */
export const PRINT_LIMIT = 200

function escapeChar(c: string): string {
  const code = c.codePointAt(0) ?? 0
  return code <= 0xFF ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** `value` with unsafe characters escaped, cut to `max` characters (with `…`). */
export function printable(value: unknown, max = PRINT_LIMIT): string {
  let s = typeof value === 'string' ? value : String(value)
  if (s.length > max) s = `${s.slice(0, max)}…`
  return UNSAFE_TEST.test(s) ? s.replaceAll(UNSAFE, escapeChar) : s
}

/**
 * One JSON document on one line, with the characters JSON.stringify leaves raw but a terminal would act on (C1,
 * separators, direction marks) written as `\uXXXX` escapes: the same value for a parser, inert on a screen.
 */
export function safeJson(value: unknown): string {
  const s = JSON.stringify(value)
  return JSON_UNSAFE_TEST.test(s) ? s.replaceAll(JSON_UNSAFE, c => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`) : s
}
