// eslint-disable-next-line unicorn/import-style -- Chalk with its own level is the documented way to choose colour per stream
import {Chalk, type ChalkInstance} from 'chalk'
import stringWidth from 'string-width'

import {scrub} from '../core/mask.js'
import {printable} from '../core/text.js'

/** Colour only on a TTY, and never with NO_COLOR. */
function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
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
  dim: (s: string) => stderrColors().dim(s),
  red: (s: string) => stderrColors().red(s),
  yellow: (s: string) => stderrColors().yellow(s),
}

/** Columns of the terminal stdout is, or undefined when stdout is not a terminal (piped output is never cut). */
export function terminalWidth(stream: NodeJS.WriteStream = process.stdout): number | undefined {
  if (!stream.isTTY) return undefined
  return stream.columns || Number(process.env.COLUMNS) || 80
}

const width = (s: string): number => stringWidth(s)

/** `s` cut to `max` columns with `…` at the end, or in the middle for a URL (its distinctive end stays). */
function cut(s: string, max: number, where: 'end' | 'middle'): string {
  if (width(s) <= max) return s
  if (where === 'middle' && !s.includes('://')) where = 'end'
  if (max <= 1) return '…'.slice(0, max)
  const chars = [...s]
  const take = (from: string[], n: number): string[] => {
    const out: string[] = []
    let w = 0
    for (const ch of from) {
      const cw = width(ch)
      if (w + cw > n) break
      out.push(ch)
      w += cw
    }

    return out
  }

  if (where === 'middle') {
    const tail = Math.floor((max - 1) / 2)
    const head = take(chars, max - 1 - tail).join('')
    const end = take([...chars].reverse(), tail).reverse().join('')
    return `${head}…${end}`
  }

  return `${take(chars, max - 1).join('')}…`
}

export interface Column<T> {
  /** Colour of the cell's text, applied after escaping and cutting. */
  color?: (text: string, row: T) => string
  /** When the table must fit a narrow terminal, columns with the highest `drop` go first (never without one). */
  drop?: number
  get: (row: T) => unknown
  header: string
  /** May be cut with `…` to fit the terminal: at the end, or in the middle (when the value is a URL). */
  truncate?: 'end' | 'middle'
}

export interface TableOptions {
  /** Fit the table in this many columns (a terminal's width): undefined prints every value in full. */
  width?: number
}

export interface FittedTable {
  /** Headers of the columns left out to fit. */
  hidden: string[]
  text: string
  /** Whether a value was cut with `…`. */
  truncated: boolean
}

/** Width of the columns `idx` with their separators. */
const total = (idx: number[], w: number[]): number => idx.reduce((sum, i) => sum + w[i], 0) + (2 * Math.max(0, idx.length - 1))

/** The narrowest a cut column gets before other columns are left out. */
const MIN_CUT = 20

/**
 * A plain aligned table (header row, two spaces between columns), every row on one line: control characters in values
 * are escaped, secrets masked. With `width`, it fits: cuttable columns are cut with `…` (the widest first) and, when
 * that is not enough, the columns with the highest `drop` are left out.
 */
export function fitTable<T>(rows: T[], columns: Array<Column<T>>, opts: TableOptions = {}): FittedTable {
  const raw = rows.map(r => columns.map(c => {
    const v = c.get(r)
    return v === null || v === undefined || v === '' ? '-' : scrub(printable(String(v)))
  }))
  const natural = columns.map((c, i) => Math.max(width(c.header), ...raw.map(row => width(row[i]))))
  const floor = (i: number) => (columns[i].truncate ? Math.min(natural[i], Math.max(width(columns[i].header), MIN_CUT)) : natural[i])
  let shown = columns.map((_, i) => i)
  const hidden: string[] = []
  const widths = [...natural]
  const max = opts.width
  if (max !== undefined && total(shown, natural) > max) {
    // leave out columns (highest drop first) until the rest fits with its cuttable columns at their floor
    for (;;) {
      const floors = shown.map(i => floor(i))
      if (floors.reduce((a, b) => a + b, 0) + (2 * (shown.length - 1)) <= max) break
      const droppable = shown.filter(i => columns[i].drop !== undefined)
      if (droppable.length === 0) break
      const out = droppable.reduce((a, b) => (columns[b].drop! > columns[a].drop! ? b : a))
      shown = shown.filter(i => i !== out)
      hidden.push(columns[out].header)
    }

    // then cut the widest cuttable column, one column of text at a time
    while (total(shown, widths) > max) {
      const cuttable = shown.filter(i => columns[i].truncate && widths[i] > Math.min(natural[i], width(columns[i].header), MIN_CUT))
      if (cuttable.length === 0) break
      const widest = cuttable.reduce((a, b) => (widths[b] > widths[a] ? b : a))
      widths[widest]--
    }
  }

  let truncated = false
  const cell = (i: number, text: string, row?: T) => {
    const c = columns[i]
    const fitted = c.truncate ? cut(text, widths[i], c.truncate) : text
    if (fitted !== text) truncated = true
    const pad = ' '.repeat(Math.max(0, widths[i] - width(fitted)))
    const shownText = row !== undefined && c.color ? c.color(fitted, row) : fitted
    return {pad, text: shownText}
  }

  const line = (cells: Array<{pad: string; text: string}>) => cells.map((c, j) => (j === cells.length - 1 ? c.text : c.text + c.pad)).join('  ').trimEnd()
  const header = line(shown.map(i => {
    const c = cell(i, columns[i].header)
    return {pad: c.pad, text: style.bold(c.text)}
  }))
  const body = raw.map((row, r) => line(shown.map(i => cell(i, row[i], rows[r]))))
  return {hidden, text: [header, ...body].join('\n'), truncated}
}

/** {@link fitTable}, as text. */
export function table<T>(rows: T[], columns: Array<Column<T>>, opts: TableOptions = {}): string {
  return fitTable(rows, columns, opts).text
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
