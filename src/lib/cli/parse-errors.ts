// oclif's parse failures in pdhooks' words: one line ("Unexpected argument 9.", "--timeout must be an integer…"),
// never oclif's ("The following error occurred", "Parsing --timeout", "Missing 1 required arg"), and never a flag's
// value when it could be a secret. Read from the fields oclif's errors carry (the flags, the arguments, the parser's
// input and output) and from pdhooks' own checks of each flag's value, not from oclif's wording.
import * as Flags from '@oclif/core/flags'
import {stripVTControlCharacters} from 'node:util'

import {ExitCode, PdhooksError, usageError} from '../core/errors.js'
import {closest} from '../core/suggest.js'
import {printable} from '../core/text.js'

export interface CommandShape {
  /** Positional arguments in order: name and description. */
  args: Array<{description?: string; name: string}>
  /** Every flag name the command accepts. */
  flags: string[]
  /** The variable a flag's value came from, when it was not given on the command line. */
  fromEnv?: (flag: string) => string | undefined
  /** The values a flag accepts, when it has a fixed list. */
  options?: (flag: string) => readonly string[] | undefined
  /**
   * pdhooks' own words for two flags that must go together or must not (a command's static `flagReasons`), when the
   * rule alone ("--a cannot be used with --b") would not say why.
   */
  reason?: (a: string, b: string) => undefined | {hint?: string; message: string}
  /** The command as typed, e.g. "pdhooks webhook list". */
  usage: string
}

type Why = {cause: unknown} | {integer: {max?: number; min?: number}} | {options: readonly string[]}

/** A flag's value refused by pdhooks' check of it (see guardFlags): names the flag, its value and why. */
export class FlagValueError extends Error {
  constructor(readonly flag: string, readonly input: string, readonly why: Why) {
    super(`--${flag}: invalid value`)
    this.name = 'FlagValueError'
  }
}

/** oclif's integer flags share one parse function: a flag that has it is an integer flag. */
const INTEGER_PARSE = Flags.integer().parse

interface FlagDef {
  max?: number
  min?: number
  options?: readonly string[]
  parse: (input: string, ...rest: unknown[]) => Promise<unknown>
  type: string
}

/**
 * The flag table given to oclif's parser: each option flag's value is checked by pdhooks (its list of values, then
 * its own parse function), and a refusal is a FlagValueError that carries the flag and the value. oclif's own
 * refusals carry only a text ("Expected --x=y to be one of: …", "Parsing --x …") that this module would otherwise
 * have to read.
 */
export function guardFlags<F extends Record<string, unknown> | undefined>(flags: F): F {
  if (!flags) return flags
  const out: Record<string, unknown> = {}
  for (const [name, flag] of Object.entries(flags)) {
    const def = flag as FlagDef
    if (def?.type !== 'option') {
      out[name] = flag
      continue
    }

    const {options} = def
    out[name] = {
      ...def,
      options: undefined,
      async parse(input: string, ...rest: unknown[]) {
        if (options && !options.includes(input)) throw new FlagValueError(name, input, {options})
        try {
          return await def.parse(input, ...rest)
        } catch (error) {
          throw new FlagValueError(name, input, def.parse === INTEGER_PARSE ? {integer: {max: def.max, min: def.min}} : {cause: error})
        }
      },
    }
  }

  return out as F
}

const clip = (s: string, n = 60) => printable(s.length > n ? `${s.slice(0, n)}…` : s)
const words = (list: readonly string[]) => (list.length <= 1 ? list.join('') : `${list.slice(0, -1).join(', ')} or ${list.at(-1)}`)
const both = (list: readonly string[]) => (list.length <= 1 ? list.join('') : `${list.slice(0, -1).join(', ')} and ${list.at(-1)}`)
const dashed = (names: readonly string[]) => names.map(n => `--${n}`)
const help = (command: CommandShape) => `See "${command.usage} --help".`
const usageLine = (command: CommandShape) => `Usage: ${command.usage} ${command.args.map(a => a.name.toUpperCase()).join(' ')}.`
const sentence = (s: string) => (s.endsWith('.') ? s : `${s}.`)

/** How a flag reads in a message: `--x`, or the variable that set it. */
function named(flag: string, command: CommandShape): string {
  const env = command.fromEnv?.(flag)
  return env ? `${env} (set in the environment, as --${flag})` : `--${flag}`
}

function flagValue(e: FlagValueError, command: CommandShape): PdhooksError {
  const {flag, input, why} = e
  if ('options' in why) return usageError(`Invalid --${flag} "${clip(input)}": use ${words(why.options)}.`)
  if ('integer' in why) {
    const {max, min} = why.integer
    const n = /^-?\d+$/.test(input) ? Number(input) : Number.NaN
    let bound = ''
    if (min !== undefined && n < min) bound = ` greater than or equal to ${min}`
    else if (max !== undefined && n > max) bound = ` less than or equal to ${max}`
    return usageError(`--${flag} must be an integer${bound} (got "${clip(input)}").`, help(command))
  }

  // pdhooks' own parse functions already speak for themselves
  if (why.cause instanceof PdhooksError) return why.cause
  return usageError(sentence(PdhooksError.from(why.cause).message.trim()))
}

interface ParserRun {
  input: {flags: Record<string, {atLeastOne?: string[]; dependsOn?: Array<{name: string} | string>; exactlyOne?: string[]; exclusive?: Array<{name: string} | string>; relationships?: Array<{flags: Array<{name: string} | string>; type: string}>; required?: boolean}>}
  output: {flags: Record<string, unknown>; metadata?: {flags?: Record<string, {setFromDefault?: boolean}>}}
}

const names = (list: Array<{name: string} | string> | undefined) => (list ?? []).map(f => (typeof f === 'string' ? f : f.name))
/** The flags of a flag's `relationships` of one type (`all`: as dependsOn, `none`: as exclusive). */
const related = (def: ParserRun['input']['flags'][string], type: 'all' | 'none') => (def.relationships ?? []).filter(r => r.type === type).flatMap(r => names(r.flags))

/**
 * Why oclif's flag validation failed (FailedFlagValidationError carries the parser's input and output, not its
 * reasons): required flags, `dependsOn`, `exclusive` (and their `relationships` forms), `exactlyOne` and `atLeastOne`, in the
 * order of the flags.
 */
function flagRules(run: ParserRun, command: CommandShape): Array<{hint?: string; message: string}> {
  const {flags} = run.output
  const set = (f: string) => flags[f] !== undefined
  const byDefault = (f: string) => run.output.metadata?.flags?.[f]?.setFromDefault === true
  const reasons: Array<{hint?: string; message: string}> = []
  const say = (message: string, own?: {hint?: string; message: string}) => reasons.push(own ?? {message})
  for (const [name, def] of Object.entries(run.input.flags)) {
    if (set(name)) {
      const missing = [...names(def.dependsOn), ...related(def, 'all')].filter(f => !set(f))
      if (missing.length > 0) say(`${named(name, command)} needs ${both(dashed(missing))}.`, missing.length === 1 ? command.reason?.(name, missing[0]) : undefined)
      const clash = byDefault(name) ? undefined : [...names(def.exclusive), ...related(def, 'none')].find(f => set(f) && !byDefault(f))
      if (clash) say(`${named(clash, command)} cannot be used with ${named(name, command)}.`, command.reason?.(clash, name))
      const other = (def.exactlyOne ?? []).find(f => f !== name && set(f))
      if (other) say(`${named(other, command)} cannot be used with ${named(name, command)}.`, command.reason?.(other, name))
    } else if (def.required) {
      say(`Missing --${name}.`)
    } else if (def.exactlyOne?.length && !def.exactlyOne.some(f => set(f))) {
      say(`Give exactly one of ${words(dashed([...new Set(def.exactlyOne)]))}.`)
    } else if (def.atLeastOne?.length && !def.atLeastOne.some(f => set(f))) {
      say(`Give at least one of ${words(dashed([...new Set(def.atLeastOne)]))}.`)
    }
  }

  return [...new Map(reasons.map(r => [r.message, r])).values()]
}

const isObject = (x: unknown): x is Record<string, any> => typeof x === 'object' && x !== null

/** oclif's first line, without its colours and its "See more help" line: for a failure pdhooks has no words for. */
function firstWords(e: Record<string, any>): string {
  const lines = stripVTControlCharacters(String(e.message ?? e)).split('\n').map(l => l.trim()).filter(l => l && !l.startsWith('See more help with'))
  return sentence(lines.join(' ').replaceAll(/\s+/g, ' '))
}

/**
 * An error of oclif's parser (or of guardFlags) as a usage error in pdhooks' words (exit 2, one line, the fix as its
 * hint), or undefined when `err` is none.
 */
export function parseFailure(err: unknown, command: CommandShape): PdhooksError | undefined {
  if (err instanceof FlagValueError) return flagValue(err, command)
  if (!isObject(err)) return undefined
  // oclif's CLIParseError and its kinds: NonExistentFlagsError (flags), RequiredArgsError and UnexpectedArgsError
  // (args: the arguments' definitions, or the extra values), FailedFlagValidationError (the parser's input and output)
  if ('parse' in err && isObject(err.parse)) {
    if (Array.isArray(err.flags)) {
      const given = (err.flags as unknown[]).map(f => String(f).split('=')[0])
      const guess = given.length === 1 ? closest(given[0].replace(/^-+/, ''), command.flags) : undefined
      return usageError(`Unknown flag${given.length === 1 ? '' : 's'} ${given.map(f => clip(f)).join(', ')}.`, guess ? `Did you mean --${guess}? ${help(command)}` : help(command))
    }

    if (Array.isArray(err.args)) {
      const args = err.args as unknown[]
      if (args.length > 0 && args.every(a => isObject(a) && typeof a.name === 'string')) {
        const what = (args as Array<{description?: string; name: string}>).map(a => `${a.name.toUpperCase()}${a.description ? ` (${a.description.replace(/\.$/, '')})` : ''}`)
        return usageError(`Missing the ${words(what)} argument${args.length === 1 ? '' : 's'}.`, usageLine(command))
      }

      const extra = args.map(a => clip(String(a)))
      const takes = command.args.length === 0 ? `${command.usage} takes no arguments.` : usageLine(command)
      return usageError(`Unexpected argument${extra.length === 1 ? '' : 's'} ${extra.join(', ')}.`, takes)
    }

    const run = err.parse as Partial<ParserRun>
    if (isObject(run.input?.flags) && isObject(run.output?.flags)) {
      const reasons = flagRules(run as ParserRun, command)
      if (reasons.length === 0) return usageError(firstWords(err), help(command))
      return usageError(reasons.map(r => r.message).join(' '), (reasons.length === 1 && reasons[0].hint) || help(command))
    }
  }

  if (err.oclif?.exit !== ExitCode.usage) return undefined
  // two refusals of oclif's tokenizer are plain CLIErrors (a text, no fields): a flag without its value, a flag
  // given twice; the flag is found by its name among the command's
  const message = String(err.message ?? '')
  const flag = command.flags.find(f => message.startsWith(`Flag --${f} `))
  if (flag && message.endsWith('can only be specified once')) return usageError(`--${flag} was given more than once: give it once.`)
  if (flag && message.includes(' expects ')) {
    const options = command.options?.(flag)
    return options ? usageError(`--${flag} needs a value: ${words(options)}.`) : usageError(`--${flag} needs a value.`, help(command))
  }

  return usageError(firstWords(err), 'See --help.')
}
