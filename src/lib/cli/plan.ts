/**
 * One line of a plan, as `apply` and `doctor --fix` print it: `  + create  pipedrive-webhook  <label> (<notes>)`.
 */
import {style} from './output.js'

const VERB_STYLE: Record<string, (s: string) => string> = {
  create: style.green, delete: style.red, keep: style.dim, replace: style.yellow, update: style.yellow,
}
const VERB_SIGN: Record<string, string> = {
  create: '+', delete: '-', keep: '=', replace: '±', update: '~',
}

export function planLine(i: {kind: string; label: string; verb: string}, notes: Array<string | undefined> = []): string {
  const shown = notes.filter(Boolean)
  return `  ${VERB_STYLE[i.verb](`${VERB_SIGN[i.verb]} ${i.verb.padEnd(7)}`)} ${i.kind.padEnd(17)} ${i.label}${shown.length > 0 ? style.dim(` (${shown.join('; ')})`) : ''}`
}
