import {type Interfaces} from '@oclif/core'
import {Command} from '@oclif/core/command'
import * as Errors from '@oclif/core/errors'
import * as Flags from '@oclif/core/flags'

import {
  configDir, ConfigStore, profileName, SETTING_KEYS, type SettingKey, SETTINGS, Settings,
} from '../core/config.js'
import {
  cancelled, ExitCode, PdhooksError, usageError,
} from '../core/errors.js'
import {InterruptedError, Interruption, type InterruptReport} from '../core/interrupt.js'
import {scrub} from '../core/mask.js'
import {registerArgvSecrets, SECRET_FLAGS} from './flags.js'
import {
  type Column, fitTable, stderrStyle, terminalWidth,
} from './output.js'
import {type CommandShape, rewordParseError} from './parse-errors.js'
import {prompts} from './prompts.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** `--timeout SECONDS`, on every command that talks to a service. */
export const timeoutFlag = Flags.integer({
  description: 'Seconds to wait for each HTTP request.',
  default: 30,
  helpGroup: 'GLOBAL',
  min: 1,
})

/** Errors from oclif's parser carry exit 2; their text is several lines. */
function isParseError(err: any): boolean {
  return err?.oclif?.exit === 2 || /^(Nonexistent flag|Unexpected argument|Missing (required|\d+ required)|Expected|Parsing --|The following error|Flag --)/.test(err?.message ?? '')
}

/** Inquirer's errors when the user presses Ctrl-C (or closes the input) at a prompt. */
const isPromptExit = (e: any): boolean => e?.name === 'ExitPromptError' || e?.name === 'AbortPromptError'

/** Turns anything thrown into a PdhooksError with a one-line message and an exit code. */
export function toPdhooksError(err: unknown, command?: CommandShape): PdhooksError {
  if (err instanceof PdhooksError) {
    // oclif prefixes the message of an error thrown by a flag's parse function ("Parsing --x \n\t…")
    if (!err.message.startsWith('Parsing --')) return err
    const r = rewordParseError(err.message, command)
    return new PdhooksError(r?.message ?? err.message, {
      cause: err, code: err.code, details: err.details, exit: err.exit, hint: err.hint, status: err.status,
    })
  }

  const e = err as any
  if (isPromptExit(e)) return cancelled()
  if (isParseError(e)) {
    const r = rewordParseError(String(e.message ?? e), command)
    if (r) return new PdhooksError(r.message, {code: 'usage', exit: ExitCode.usage, hint: r.hint})
    const first = String(e.message ?? e).split('\n').map((l: string) => l.trim()).filter(Boolean)
    const message = first.filter((l: string) => !l.startsWith('See more help with')).join(' ').replaceAll(/\s+/g, ' ')
    return new PdhooksError(message.endsWith('.') ? message : `${message}.`, {code: 'usage', exit: ExitCode.usage, hint: 'See --help.'})
  }

  if (e?.name === 'SyntaxError' && /JSON/.test(e.message)) {
    return new PdhooksError(`Malformed JSON: ${e.message}`, {code: 'bad_json', exit: ExitCode.unexpected})
  }

  const exit = typeof e?.oclif?.exit === 'number' ? e.oclif.exit : ExitCode.unexpected
  const message = String(e?.message ?? e).split('\n')[0]
  return new PdhooksError(exit === ExitCode.unexpected ? `Unexpected error: ${message}` : message, {
    cause: err,
    exit,
    hint: exit === ExitCode.unexpected ? 'Run again with DEBUG=pdhooks* for details.' : undefined,
  })
}

const onCommandLine = (argv: string[], name: string) => argv.some(a => a === `--${name}` || a.startsWith(`--${name}=`))

/** The variable that gave a secret flag its value, when the command line did not. */
function envOnly(argv: string[], name: string): string | undefined {
  const env = SECRET_FLAGS.get(name)
  return env && process.env[env] && !onCommandLine(argv, name) ? env : undefined
}

/** Flags whose values the settings resolve (flag > variable > profile): flag name → setting. */
const SETTING_FLAGS: Record<string, SettingKey> = Object.fromEntries(SETTING_KEYS.map(k => [SETTINGS[k].flag, k]))

/**
 * The one base command: `--json` (exactly one JSON document on stdout, errors included), `--profile`, exit codes,
 * one-line errors, masking of every output path, prompts only when interactive, and the shared settings.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static baseFlags = {
    profile: Flags.string({
      description: 'Profile to use (PDHOOKS_PROFILE; default "default").',
      helpGroup: 'GLOBAL',
    }),
  }
  static enableJsonFlag = true
  protected args!: BaseArgs<T>
  protected flags!: BaseFlags<T>
  /** Every positional argument (for commands with a variable number of them). */
  protected positional: string[] = []
  private _interruption?: Interruption
  /** Whether a table was cut to fit the terminal. */
  private cut = false
  /** The flags given on the command line (not from a variable or a default). */
  private given = new Set<string>()
  private _settings?: Settings
  private _store?: ConfigStore

  get profile(): string {
    return profileName(this.flags?.profile)
  }

  get store(): ConfigStore {
    this._store ??= new ConfigStore(configDir(this.config.configDir))
    return this._store
  }

  get userAgent(): string {
    return `pdhooks/${this.config.version}`
  }

  protected async catch(err: Error & {exitCode?: number}): Promise<any> {
    if (err instanceof Errors.ExitError) throw err
    // a parse error may quote a flag's value: secret ones must not be printed
    registerArgvSecrets(this.argv)
    // the failure is reported here: oclif's "did not parse its arguments" notice would only add noise
    this.parsed = true
    const e = toPdhooksError(err, this.shape())
    process.exitCode = e.exit
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(e))
      return
    }

    if (e instanceof InterruptedError) {
      this.printInterrupted(e)
      this.exit(e.exit)
    }

    // Ctrl-C at a prompt (exit 130) is the user's choice, not a failure: no "Error:"
    this.logToStderr(e.exit === ExitCode.interrupted ? e.line : `${this.colorError('Error:')} ${e.line}`)
    if (process.env.DEBUG) {
      const cause = (e as any).cause ?? err
      if (cause?.stack) this.logToStderr(String(cause.stack))
    }

    this.exit(e.exit)
  }

  /** `--http-auth-user` and `--http-auth-password` (or PDHOOKS_HTTP_AUTH_PASSWORD) go together: one alone is exit 2. */
  protected checkHttpAuth(): void {
    const f = this.flags as Record<string, unknown>
    const password = f['http-auth-password']
    if (f['http-auth-user'] !== undefined && password === undefined) {
      throw usageError('--http-auth-user needs a password.', 'Pass --http-auth-password, set PDHOOKS_HTTP_AUTH_PASSWORD, or use --generate-auth.', 'missing_value')
    }

    if (password !== undefined && f['http-auth-user'] === undefined) {
      throw this.fromCommandLine('http-auth-password')
        ? usageError('--http-auth-password needs --http-auth-user.', undefined, 'missing_value')
        : usageError('PDHOOKS_HTTP_AUTH_PASSWORD is set, but --http-auth-user is not.', 'Pass --http-auth-user, or unset PDHOOKS_HTTP_AUTH_PASSWORD.', 'missing_value')
    }
  }

  /** Asks on a TTY; elsewhere `--yes` is required (exit 2 without it). */
  protected async confirmOrRefuse(message: string, yes: boolean | undefined, what: string): Promise<void> {
    if (yes) return
    if (!prompts.interactive(this.jsonEnabled())) {
      throw usageError(`Refusing to ${what} without confirmation.`, 'Pass --yes to confirm (not a terminal).', 'confirmation_required')
    }

    if (!(await prompts.confirm(message, false))) throw usageError('Cancelled.', undefined, 'cancelled')
  }

  /** Removes the signal handlers installed by whenInterrupted(). */
  protected async finally(err: Error | undefined): Promise<any> {
    this._interruption?.uninstall()
    return super.finally(err)
  }

  protected async init(): Promise<void> {
    await super.init()
    const {args, argv, flags, raw} = await this.parse()
    this.positional = argv.map(String)
    for (const t of raw) if (t.type === 'flag') this.given.add(t.flag)
    // credentials read their variables through the settings (flag > variable > profile, each with its source shown):
    // a value oclif took from the variable is not a flag value
    for (const name of Object.keys(SETTING_FLAGS)) if (!this.given.has(name)) delete (flags as Record<string, unknown>)[name]
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
  }

  /** Was this flag given on the command line (rather than by its environment twin, or its default)? */
  protected fromCommandLine(name: string): boolean {
    return this.given.has(name)
  }

  /** JSON on stdout, masked and scrubbed. */
  logJson(json: unknown): void {
    process.stdout.write(scrub(JSON.stringify(json, null, 2)) + '\n')
  }

  log(message = '', ...args: unknown[]): void {
    if (this.jsonEnabled()) return
    super.log(scrub(String(message)), ...args)
  }

  logToStderr(message = '', ...args: unknown[]): void {
    if (this.jsonEnabled()) return
    super.logToStderr(scrub(String(message)), ...args)
  }

  /** Resolves on Ctrl-C or SIGTERM (for commands that serve until stopped), or when `until` settles first. */
  protected async untilStopped(until?: Promise<unknown>): Promise<void> {
    let stop!: () => void
    const stopped = new Promise<void>(resolve => {
      stop = resolve
    })
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    await Promise.race([stopped, ...(until ? [until] : [])])
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }

  /**
   * Prints a table that fits the terminal (cut with … and, if need be, without its least useful columns), or in full
   * with `wide`, or when stdout is not a terminal (piped output is never cut, like gh). When something was left out,
   * a note on stderr says how to see everything.
   */
  protected printTable<R>(rows: R[], columns: Array<Column<R>>, opts: {indent?: number; wide?: boolean} = {}): void {
    if (this.jsonEnabled()) return // nothing would be printed: not even fitted
    const indent = opts.indent ?? 0
    const width = opts.wide ? undefined : terminalWidth()
    const t = fitTable(rows, columns, {width: width === undefined ? undefined : width - indent})
    this.log(indent ? t.text.split('\n').map(l => ' '.repeat(indent) + l).join('\n') : t.text)
    this.cut ||= t.truncated || t.hidden.length > 0
  }

  /** After the last table: the note that something was cut to fit the terminal. */
  protected noteIfCut(): void {
    if (this.cut) this.logToStderr(stderrStyle.dim('Cut to fit the terminal: --wide shows everything.'))
  }

  /**
   * For commands that change things in steps (deletes, setup, apply): registers what to say if the run is interrupted
   * and installs SIGINT / SIGTERM handlers for the rest of the run. At the first signal `signal` is aborted: start
   * nothing new, let what is in flight finish, then call `throwIfInterrupted()` (or throw `error()`); the base command
   * prints the report (one JSON document under --json) and exits 130 (SIGINT) or 143 (SIGTERM). If the work has not
   * stopped within a few seconds, or at a second signal, the report is printed at once and the process exits.
   * `report` is called when printing, so it reads the progress of that moment. Calling it again replaces the report.
   */
  protected whenInterrupted(report: () => InterruptReport): Interruption {
    this._interruption ??= new Interruption({
      onForce: e => {
        process.exitCode = e.exit
        if (this.jsonEnabled()) this.logJson(this.toErrorJson(e))
        else this.printInterrupted(e)
        process.exit(e.exit)
      },
    })
    return this._interruption.report(report)
  }

  private printInterrupted(e: InterruptedError): void {
    this.logToStderr(e.line)
    for (const l of e.lines) this.logToStderr(l)
  }

  /** Progress on stderr, only on a terminal (CI logs stay clean; results and errors are printed anyway). */
  protected progress(message: string): void {
    if (process.stderr.isTTY) this.logToStderr(message)
  }

  /** Settings resolved flag > env > profile, given the flags this command has. */
  protected settings(extra: Partial<Record<SettingKey, string | undefined>> = {}): Settings {
    if (!this._settings || Object.keys(extra).length > 0) {
      const f = (this.flags ?? {}) as Record<string, unknown>
      const fromFlags: Partial<Record<SettingKey, string | undefined>> = {}
      for (const [flag, key] of Object.entries(SETTING_FLAGS)) if (typeof f[flag] === 'string') fromFlags[key] = f[flag] as string
      this._settings = new Settings({flags: {...fromFlags, ...extra}, profile: this.profile, store: this.store})
    }

    return this._settings
  }

  protected toErrorJson(err: unknown): {error: {[key: string]: unknown; code: string; message: string; status: null | number}} {
    const e = toPdhooksError(err, this.shape())
    const report = (e.details?.report ?? {}) as Record<string, unknown>
    return {
      error: {
        code: e.code, message: scrub(e.line), status: e.status, ...report,
      },
    }
  }

  /** A warning on stderr (not under --json, where the result carries it). */
  warn(input: Error | string): Error | string {
    if (!this.jsonEnabled()) process.stderr.write(scrub(`${this.colorWarn('Warning:')} ${typeof input === 'string' ? input : input.message}`) + '\n')
    return input
  }

  /** This command's arguments and flags, for the wording of usage errors. */
  private shape(): CommandShape {
    const ctor = this.ctor as typeof Command
    const flags = Object.keys({...ctor.baseFlags, ...ctor.flags, ...(ctor.enableJsonFlag ? {json: true} : {})})
    const args = Object.entries(ctor.args ?? {}).map(([name, a]) => ({description: a.description, name}))
    const argv = this.argv ?? []
    const fromEnv = (name: string) => envOnly(argv, name)

    return {
      args, flags, fromEnv, usage: `${this.config?.bin ?? 'pdhooks'} ${(this.id ?? '').replaceAll(':', ' ')}`.trim(),
    }
  }

  private colorError(s: string): string {
    return stderrStyle.red(s)
  }

  private colorWarn(s: string): string {
    return stderrStyle.yellow(s)
  }
}

export {registerSecret} from '../core/mask.js'
