import {type Interfaces} from '@oclif/core'
import {Command} from '@oclif/core/command'
import * as Errors from '@oclif/core/errors'
import * as Flags from '@oclif/core/flags'

import {InterruptedError, Interruption, type InterruptReport} from './cli/interrupt.js'
import {
  configDir, ConfigStore, profileName, type SettingKey, Settings,
} from './config.js'
import {ExitCode, PdhooksError, usageError} from './errors.js'
import {registerSecret, scrub} from './mask.js'
import {stderrStyle} from './output.js'
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
  return err?.oclif?.exit === 2 || /^(Nonexistent flag|Unexpected argument|Missing required|Expected|Parsing --|The following error)/.test(err?.message ?? '')
}

const SECRET_FLAG = /(password|token|secret|signature|key)$/i

/** Registers the values of secret-looking flags (`--pipedrive-token X`, `--signature=X`) so that no output shows them. */
export function registerArgvSecrets(argv: string[]): void {
  for (const [i, a] of argv.entries()) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(a)
    if (!m || !SECRET_FLAG.test(m[1])) continue
    registerSecret(m[2] ?? argv[i + 1])
  }
}

/** Turns anything thrown into a PdhooksError with a one-line message and an exit code. */
export function toPdhooksError(err: unknown): PdhooksError {
  if (err instanceof PdhooksError) return err
  const e = err as any
  if (isParseError(e)) {
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
    const e = toPdhooksError(err)
    process.exitCode = e.exit
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(e))
      return
    }

    if (e instanceof InterruptedError) {
      this.printInterrupted(e)
      this.exit(e.exit)
    }

    this.logToStderr(`${this.colorError('Error:')} ${e.line}`)
    if (process.env.DEBUG) {
      const cause = (e as any).cause ?? err
      if (cause?.stack) this.logToStderr(String(cause.stack))
    }

    this.exit(e.exit)
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
    const {args, argv, flags} = await this.parse()
    this.positional = argv.map(String)
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
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

  /** A notice on stderr (not under --json). */
  protected note(message: string): void {
    this.logToStderr(message)
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
      const map: Record<string, SettingKey> = {
        'elements-url': 'elementsUrl',
        'org-secret': 'orgSecret',
        'pipedrive-access-token': 'pipedriveAccessToken',
        'pipedrive-token': 'pipedriveToken',
        'pipedrive-url': 'pipedriveUrl',
        'pipeliner-password': 'pipelinerPassword',
        'pipeliner-url': 'pipelinerUrl',
        'pipeliner-username': 'pipelinerUsername',
        'user-secret': 'userSecret',
      }
      for (const [flag, key] of Object.entries(map)) if (typeof f[flag] === 'string') fromFlags[key] = f[flag] as string
      this._settings = new Settings({flags: {...fromFlags, ...extra}, profile: this.profile, store: this.store})
    }

    return this._settings
  }

  protected toErrorJson(err: unknown): {error: {[key: string]: unknown; code: string; message: string; status: null | number}} {
    const e = toPdhooksError(err)
    const report = (e.details?.report ?? {}) as Record<string, unknown>
    return {
      error: {
        code: e.code, message: scrub(e.line), status: e.status, ...report,
      },
    }
  }

  /** Results are built from masked views; `logJson` also scrubs every known secret. */
  protected toSuccessJson(result: unknown): unknown {
    return result
  }

  /** A warning on stderr (not under --json, where the result carries it). */
  warn(input: Error | string): Error | string {
    if (!this.jsonEnabled()) process.stderr.write(scrub(`${this.colorWarn('Warning:')} ${typeof input === 'string' ? input : input.message}`) + '\n')
    return input
  }

  private colorError(s: string): string {
    return stderrStyle.red(s)
  }

  private colorWarn(s: string): string {
    return stderrStyle.yellow(s)
  }
}

export {registerSecret} from './mask.js'
