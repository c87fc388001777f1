import {closest} from '../core/suggest.js'
// oclif's parser errors, reworded: one line in pdhooks' words ("Unexpected argument 9.", "--timeout must be an
// integer…"), never oclif's ("The following error occurred", "Parsing --timeout", "Missing 1 required arg"), and
// never a flag's value when it could be a secret.
import {printable} from '../core/text.js'

export interface CommandShape {
  /** The variable a flag's value came from, when it was not given on the command line. */
  fromEnv?: (flag: string) => string | undefined
  /** Positional arguments in order: name and description. */
  args: Array<{description?: string; name: string}>
  /** Every flag name the command accepts. */
  flags: string[]
  /** The command as typed, e.g. "pdhooks webhook list". */
  usage: string
}

export interface Reworded {
  hint?: string
  message: string
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[\d;]*m/g

const clip = (s: string, n = 60) => printable(s.length > n ? `${s.slice(0, n)}…` : s)
const words = (list: string[]) => (list.length <= 1 ? list.join('') : `${list.slice(0, -1).join(', ')} or ${list.at(-1)}`)

function reason(line: string, command?: CommandShape): string {
  let m = /^--([\w-]+)=[\s\S]* cannot also be provided when using --([\w-]+)$/.exec(line)
  if (m) {
    const env = command?.fromEnv?.(m[1])
    return env ? `${env} (set in the environment, as --${m[1]}) cannot be used with --${m[2]}.` : `--${m[1]} cannot be used with --${m[2]}.`
  }

  m = /^Missing required flag ([\w-]+)$/.exec(line)
  if (m) return `Missing --${m[1]}.`
  m = /^All of the following must be provided when using --([\w-]+): (.*)$/.exec(line)
  if (m) return `--${m[1]} needs ${m[2]}.`
  m = /^Exactly one of the following must be provided: (.*)$/.exec(line)
  if (m) return `Give exactly one of ${m[1]}.`
  m = /^At least one of the following must be provided: (.*)$/.exec(line)
  if (m) return `Give at least one of ${m[1]}.`
  return line.endsWith('.') ? line : `${line}.`
}

/**
 * The message of an oclif parse error in pdhooks' words, or undefined when `message` is not one. `command` gives the
 * suggestions (did-you-mean for a flag, the usage line for arguments).
 */
export function rewordParseError(raw: string, command?: CommandShape): Reworded | undefined {
  const text = raw.replaceAll(ANSI, '').replace(/\n+See more help with --help\s*$/, '').trim()
  const help = command ? `See "${command.usage} --help".` : 'See --help.'
  let m = /^Parsing --([\w-]+)\s*\n\t([\s\S]*)$/.exec(text)
  if (m) {
    const [, flag, inner] = m
    const int = /^Expected an integer(.*?) but received: ([\s\S]*)$/.exec(inner)
    if (int) return {hint: help, message: `--${flag} must be an integer${int[1]} (got "${clip(int[2])}").`}
    const url = /^Expected a valid url but received: ([\s\S]*)$/.exec(inner)
    if (url) return {hint: help, message: `--${flag} must be a URL (got "${clip(url[1])}").`}
    // pdhooks' own parse functions already speak for themselves
    return {message: inner.trim()}
  }

  m = /^Missing (\d+) required args?:?\n?([\s\S]*)$/.exec(text)
  if (m) {
    const lines = m[2].split('\n').map(l => l.trim()).filter(l => l && !l.startsWith('Note:') && !l.startsWith('Alternatively'))
    const named = lines.map(l => {
      const [name, ...rest] = l.split(/\s{2,}/)
      return {description: rest.join(' '), name}
    })
    const what = named.map(a => `${a.name.toUpperCase()}${a.description ? ` (${a.description.replace(/\.$/, '')})` : ''}`)
    const usage = command ? `Usage: ${command.usage} ${command.args.map(a => a.name.toUpperCase()).join(' ')}.` : help
    return {hint: usage, message: `Missing the ${words(what)} argument${named.length === 1 ? '' : 's'}.`}
  }

  m = /^Unexpected arguments?: ([\s\S]*)$/.exec(text)
  if (m) {
    const extra = m[1].split(', ').map(a => clip(a))
    const takes = command
      ? (command.args.length === 0 ? `${command.usage} takes no arguments.` : `Usage: ${command.usage} ${command.args.map(a => a.name.toUpperCase()).join(' ')}.`)
      : help
    return {hint: takes, message: `Unexpected argument${extra.length === 1 ? '' : 's'} ${extra.join(', ')}.`}
  }

  m = /^Nonexistent flags?: ([\s\S]*)$/.exec(text)
  if (m) {
    const given = m[1].split(', ').map(f => f.replace(/=[\s\S]*$/, ''))
    const guess = command && given.length === 1 ? closest(given[0].replace(/^-+/, ''), command.flags) : undefined
    return {
      hint: guess ? `Did you mean --${guess}? ${help}` : help,
      message: `Unknown flag${given.length === 1 ? '' : 's'} ${given.map(f => clip(f)).join(', ')}.`,
    }
  }

  m = /^Expected --([\w-]+)=([\s\S]*) to be one of: (.*)$/.exec(text)
  if (m) return {message: `Invalid --${m[1]} "${clip(m[2])}": use ${words(m[3].split(', '))}.`}
  m = /^Flag --([\w-]+) expects one of these values: (.*)$/.exec(text)
  if (m) return {message: `--${m[1]} needs a value: ${words(m[2].split(', '))}.`}
  m = /^Expected ([\s\S]*) to be one of: (.*)$/.exec(text)
  if (m) return {message: `Invalid argument "${clip(m[1])}": use ${words(m[2].split(', '))}.`}
  m = /^Flag --([\w-]+) expects a value$/.exec(text)
  if (m) return {hint: help, message: `--${m[1]} needs a value.`}
  m = /^Flag --([\w-]+) can only be specified once$/.exec(text)
  if (m) return {message: `--${m[1]} was given more than once: give it once.`}
  m = /^The following errors? occurred:\s*\n([\s\S]*)$/.exec(text)
  if (m) return {hint: help, message: m[1].split('\n').map(l => l.trim()).filter(Boolean).map(l => reason(l, command)).join(' ')}
  return undefined
}
