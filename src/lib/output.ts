// eslint-disable-next-line unicorn/import-style -- Chalk with its own level is the documented way to choose colour per stream
import {Chalk, type ChalkInstance} from 'chalk'

import {scrub} from './mask.js'

/** Colour only on a TTY, and never with NO_COLOR. */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb'
}

let palette: ChalkInstance | undefined
/** chalk, with colour decided by {@link useColor} (TTY, NO_COLOR, TERM=dumb) when first used. */
const colors = (): ChalkInstance => {
  palette ??= new Chalk({level: useColor() ? 1 : 0})
  return palette
}

export const style = {
  bold: (s: string) => colors().bold(s),
  cyan: (s: string) => colors().cyan(s),
  dim: (s: string) => colors().dim(s),
  green: (s: string) => colors().green(s),
  red: (s: string) => colors().red(s),
  yellow: (s: string) => colors().yellow(s),
}

let stderrPalette: ChalkInstance | undefined
const stderrColors = (): ChalkInstance => {
  stderrPalette ??= new Chalk({level: useColor(process.stderr) ? 1 : 0})
  return stderrPalette
}

/** Colours for what goes to stderr (errors, warnings), decided by stderr's own terminal. */
export const stderrStyle = {
  red: (s: string) => stderrColors().red(s),
  yellow: (s: string) => stderrColors().yellow(s),
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[\d;]*m/g
const width = (s: string) => s.replaceAll(ANSI, '').length

export interface Column<T> {
  get: (row: T) => unknown
  header: string
}

/** A plain aligned table (header row, two spaces between columns). */
export function table<T>(rows: T[], columns: Array<Column<T>>): string {
  const cells = rows.map(r => columns.map(c => {
    const v = c.get(r)
    return v === null || v === undefined || v === '' ? '-' : String(v)
  }))
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map(row => width(row[i]))))
  const line = (vals: string[]) => vals.map((v, i) => (i === vals.length - 1 ? v : v + ' '.repeat(widths[i] - width(v)))).join('  ').trimEnd()
  return scrub([style.bold(line(columns.map(c => c.header))), ...cells.map(row => line(row))].join('\n'))
}

/** "3 minutes ago"-style relative time (short). */
export function ago(date: Date | undefined, now = Date.now()): string {
  if (!date) return '-'
  const s = Math.round((now - date.getTime()) / 1000)
  if (s < 0) return 'just now'
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`
  return `${Math.floor(s / 86_400)}d ago`
}
