import * as Flags from '@oclif/core/flags'

import {checkValue} from '../core/config.js'
import {registerConfigSecret, registerSecret, scrub} from '../core/mask.js'

/** The environment twin of a flag: `PDHOOKS_` + the flag name in upper snake case (`basic-auth` → `PDHOOKS_BASIC_AUTH`). */
export const envTwin = (flag: string): string => `PDHOOKS_${flag.toUpperCase().replaceAll('-', '_')}`

/** Every secret flag defined with {@link secret}: its name and its environment twin. */
export const SECRET_FLAGS = new Map<string, string>()

export interface SecretFlagOptions {
  description: string
  /** Goes into an HTTP header as it is (tokens, platform secrets): only printable Latin-1 is allowed. */
  header?: boolean
  helpGroup?: string
}

/**
 * A flag whose value is a secret. Its value is registered for masking as it is parsed (no output, error or debug log
 * shows it), it reads its environment twin ({@link envTwin}; shown in --help as `[env: PDHOOKS_…]`, a value on the
 * command line wins), and a value with a control character is exit 2 naming the flag or the variable.
 */
export function secret(name: string, opts: SecretFlagOptions) {
  const env = envTwin(name)
  SECRET_FLAGS.set(name, env)
  return Flags.custom<string>({
    description: opts.description,
    env,
    helpGroup: opts.helpGroup,
    async parse(input, context) {
      registerSecret(input)
      checkValue(input, context?.token ? `--${name}` : env, {header: opts.header})
      return input
    },
  })()
}

/** `--wide`: tables show every column and every value in full, even on a narrow terminal. */
export const wideFlag = Flags.boolean({description: 'Show every column and every value in full (on a terminal, tables otherwise fit its width).'})

const SECRET_FLAG = /(password|token|secret|signature|key)$/i

/**
 * The environment variable of a flag that holds a secret (its twin), by the flags defined with {@link secret} or, for
 * one not loaded yet, by its name; undefined for a flag that is not a secret.
 */
export const secretFlagEnv = (name: string): string | undefined => SECRET_FLAGS.get(name) ?? (SECRET_FLAG.test(name) ? envTwin(name) : undefined)

/**
 * Registers the values of secret flags found in a raw argv (`--pipedrive-token X`, `--signature=X`, the value of
 * `--config pipedrive.api.token=X`), and of their
 * environment twins, so that nothing printed before or while parsing (oclif's DEBUG output, a parse error) shows them.
 */
export function registerArgvSecrets(argv: string[]): void {
  for (const [i, a] of argv.entries()) {
    if (a === '--') break
    const m = /^--([\w-]+)(?:=(.*))?$/s.exec(a)
    if (m?.[1] === 'config') registerConfigSecret(m[2] ?? argv[i + 1])
    if (!m || !(SECRET_FLAGS.has(m[1]) || SECRET_FLAG.test(m[1]))) continue
    registerSecret(m[2] ?? argv[i + 1])
  }

  for (const env of SECRET_FLAGS.values()) registerSecret(process.env[env])
}

/**
 * With DEBUG set, oclif and its plugins print the command line and parsed flags: every write to stderr is scrubbed of
 * the secrets known so far (those of argv and of the variables first). Nothing changes without DEBUG.
 */
export function guardDebugOutput(argv: string[] = process.argv): void {
  if (!process.env.DEBUG) return
  registerArgvSecrets(argv)
  const stderr = process.stderr as NodeJS.WriteStream & {pdhooksGuarded?: boolean}
  if (stderr.pdhooksGuarded) return
  stderr.pdhooksGuarded = true
  const write = stderr.write.bind(stderr) as (...a: unknown[]) => boolean
  stderr.write = ((chunk: unknown, ...rest: unknown[]) => write(typeof chunk === 'string' ? scrub(chunk) : (Buffer.isBuffer(chunk) ? scrub(chunk.toString('utf8')) : chunk), ...rest)) as typeof stderr.write
}
