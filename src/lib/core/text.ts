/** Control characters in a value from outside (a server, a sender, the user) made visible: `\n`, `\u001b`… */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replaceAll(/[\u0000-\u001F\u007F-\u009F]/g, ch => JSON.stringify(ch).slice(1, -1))
}
