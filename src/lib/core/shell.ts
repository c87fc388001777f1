/** Quotes a value for a POSIX shell command line shown to the user (single quotes only when needed). */
export function shellQuote(value: string): string {
  return /^[\w./:@%+=,-]+$/.test(value) ? value : `'${value.replaceAll("'", String.raw`'\''`)}'`
}
