import {type Interfaces} from '@oclif/core'
import {Command} from '@oclif/core/command'
import * as Errors from '@oclif/core/errors'
import * as Flags from '@oclif/core/flags'

import {
  configDir, ConfigStore, profileName, SETTING_KEYS, type SettingKey, SETTINGS, Settings,
} from '../core/config.js'
import {
  cancelled, ExitCode, PdhooksError, usageError, worstExit,
} from '../core/errors.js'
import {InterruptedError, Interruption, type InterruptReport} from '../core/interrupt.js'
import {scrub} from '../core/mask.js'
import {registerArgvSecrets, SECRET_FLAGS} from './flags.js'
import {
  type Column, fitTable, stderrStyle, terminalWidth,
} from './output.js'
import {type CommandShape, guardFlags, parseFailure} from './parse-errors.js'
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

/** Inquirer's errors when the user presses Ctrl-C (or closes the input) at a prompt. */
const isPromptExit = (e: any): boolean => e?.name === 'ExitPromptError' || e?.name === 'AbortPromptError'

/**
 * Turns anything thrown into the PdhooksError the user sees (a one-line message and an exit code): a parse failure in
 * pdhooks' words, Ctrl-C at a prompt, malformed JSON, oclif's exits, and anything else as an unexpected error.
 */
function toPdhooksError(err: unknown, command: CommandShape): PdhooksError {
  if (err instanceof PdhooksError) return err
  const parsed = parseFailure(err, command)
  if (parsed) return parsed
  const e = err as any
  if (isPromptExit(e)) return cancelled()
  if (e?.name === 'SyntaxError' && /JSON/.test(e.message)) {
    return new PdhooksError(`Malformed JSON: ${e.message}`, {code: 'bad_json', exit: ExitCode.unexpected})
  }

  const exit = typeof e?.oclif?.exit === 'number' ? e.oclif.exit : ExitCode.unexpected
  const message = PdhooksError.from(err).message.split('\n')[0]
  return new PdhooksError(exit === ExitCode.unexpected ? `Unexpected error: ${message}` : message, {
    cause: err,
    exit,
    hint: exit === ExitCode.unexpected ? 'Run again with DEBUG=pdhooks* for details.' : undefined,
  })
}

/** The `error` of a `--json` document: what failed, its machine-readable code and the HTTP status behind it. */
export interface ErrorJson {
  [key: string]: unknown
  code: string
  message: string
  status: null | number
}

/**
 * The `--json` document of a command whose result is R: the result, `warnings` when the command gave any (warn()),
 * and `error` when some of its items failed (a partial failure: the exit code is not 0). A failure without a result
 * is `{"error": {…}}` (and `warnings`).
 */
export type JsonOutput<R> = R & {error?: ErrorJson; warnings?: string[]}

/** The result type of a command class (what its run() resolves to). */
/**
 * A command's own words for two of its flags that must go together (dependsOn) or must not (exclusive), by "a b" in
 * either order: `static flagReasons = {'resume restart': {message: '--resume continues a run, --restart discards it:
 * give one.'}}`. Without one, the usage error states the rule ("--a cannot be used with --b.").
 */
export type FlagReasons = Record<string, {hint?: string; message: string}>

export type ResultOf<C extends abstract new (...args: any) => {run(): Promise<unknown>}> = Awaited<ReturnType<InstanceType<C>['run']>>

/**
 * A failure that still has the command's result to show: under `--json` the document is the result with this
 * error as its `error`; otherwise the one-line error on stderr. Made by partialFailure() and failWith().
 */
class ResultError<R = unknown> extends PdhooksError {
  constructor(readonly result: R, error: PdhooksError) {
    super(error.message, {
      cause: error, code: error.code, details: error.details, exit: error.exit, hint: error.hint, status: error.status,
    })
  }
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
 *
 * The output contract: `run()` resolves to the command's result R (exported by each command as its `…Result` type),
 * printed as the `--json` document (JsonOutput<R>). warn() goes to stderr, or under `--json` into the document's
 * `warnings`. An error becomes `{"error": {code, message, status}}` and its exit code; a bulk command some of whose
 * items failed throws partialFailure(): the result with `error`, and the highest of the failures' exit codes
 * (worstExit). A result that exits non-zero by design (doctor's findings, apply's pending changes) says so in
 * exitCode(). process.exitCode is set here and nowhere else.
 */
export abstract class BaseCommand<T extends typeof Command, R = unknown> extends Command {
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
  /** The warnings given with warn(), for the `--json` document. */
  private readonly warnings: string[] = []
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
    // oclif's parser gets the flags with pdhooks' checks of their values (parse-errors.ts): a refusal names its flag
    const c = this.ctor as typeof Command
    const {args, argv, flags, raw} = await this.parse({
      args: c.args, baseFlags: guardFlags(c.baseFlags), enableJsonFlag: c.enableJsonFlag, flags: guardFlags(c.flags), strict: c.strict,
    })
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

  /** The `--json` document of an error: `{"error": {…}}`, or the result with its `error` after a partial failure. */
  protected toErrorJson(err: unknown): JsonOutput<Partial<R>> & {error: ErrorJson} {
    const e = toPdhooksError(err, this.shape())
    const report = (e.details?.report ?? {}) as Record<string, unknown>
    const error: ErrorJson = {
      code: e.code, message: scrub(e.line), status: e.status, ...report,
    }
    return {
      ...(e instanceof ResultError ? e.result as Partial<R> : {}),
      error,
      ...(this.warnings.length > 0 ? {warnings: [...this.warnings]} : {}),
    } as JsonOutput<Partial<R>> & {error: ErrorJson}
  }

  /** The `--json` document of a result: the result, with `warnings` when there are any (or when R has the field). */
  protected toSuccessJson(result: R): JsonOutput<R> {
    if (this.warnings.length === 0 && !(typeof result === 'object' && result !== null && 'warnings' in result)) return result as JsonOutput<R>
    return {...result, warnings: [...this.warnings]}
  }

  /**
   * A warning: on stderr, or under `--json` in the document's `warnings` (masked either way), like SfCommand's. The
   * run goes on.
   */
  warn(input: Error | string): Error | string {
    const message = scrub(typeof input === 'string' ? input : input.message)
    this.warnings.push(message)
    if (!this.jsonEnabled()) process.stderr.write(`${this.colorWarn('Warning:')} ${message}\n`)
    return input
  }

  abstract run(): Promise<R>

  /** Runs the command (oclif's run), then sets the exit code of a result that exits non-zero by design. */
  async _run<U>(): Promise<U> {
    const result = await super._run<U>()
    if (result !== undefined) {
      const exit = this.exitCode(result as unknown as R)
      if (exit !== ExitCode.ok) process.exitCode = exit
    }

    return result
  }

  /**
   * The exit code of a run that returns its result: 0, unless the command says otherwise (doctor's findings, apply's
   * pending changes). Failures are thrown instead: their exit code is the error's.
   */
  protected exitCode(_result: R): number {
    return ExitCode.ok
  }

  /**
   * The end of a run that failed but has a result to show (apply stopping after its plan, backfill stopping on the
   * way): throw what this returns. Under `--json` the document is the result with `error`; otherwise the error is
   * the one line on stderr. Its exit code is the error's.
   */
  protected failWith(result: R, error: PdhooksError): ResultError<R> {
    return new ResultError(result, error)
  }

  /**
   * The end of a bulk command some of whose items failed (deletes, deliveries, checks, applied objects): throw what
   * this returns. Every bulk command ends so: under `--json` the document is the result (every item's outcome) with
   * `error` ({code: "partial_failure" unless given, message, status}); otherwise the message is the one line on
   * stderr. The exit code is the highest of the failures' (worstExit: 1 for a failure without one).
   */
  protected partialFailure(result: R, failures: Iterable<{exit?: number}>, error: {code?: string; hint?: string; message: string; status?: null | number}): ResultError<R> {
    return new ResultError(result, new PdhooksError(error.message, {
      code: error.code ?? 'partial_failure', exit: worstExit([...failures].map(f => f.exit)), hint: error.hint, status: error.status ?? null,
    }))
  }

  /** This command's arguments and flags, for the wording of usage errors. */
  private shape(): CommandShape {
    const ctor = this.ctor as typeof Command
    const flags = Object.keys({...ctor.baseFlags, ...ctor.flags, ...(ctor.enableJsonFlag ? {json: true} : {})})
    const args = Object.entries(ctor.args ?? {}).map(([name, a]) => ({description: a.description, name}))
    const argv = this.argv ?? []
    const fromEnv = (name: string) => envOnly(argv, name)
    const defs: Record<string, unknown> = {...ctor.baseFlags, ...ctor.flags}
    const options = (name: string) => (defs[name] as {options?: readonly string[]} | undefined)?.options
    const reasons = (ctor as {flagReasons?: FlagReasons}).flagReasons ?? {}
    const reason = (a: string, b: string) => reasons[`${a} ${b}`] ?? reasons[`${b} ${a}`]

    return {
      args, flags, fromEnv, options, reason, usage: `${this.config?.bin ?? 'pdhooks'} ${(this.id ?? '').replaceAll(':', ' ')}`.trim(),
    }
  }

  private colorError(s: string): string {
    return stderrStyle.red(s)
  }

  private colorWarn(s: string): string {
    return stderrStyle.yellow(s)
  }
}

