import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {
  checkValue, envTwin, type SettingKey, SETTINGS,
} from '../core/config.js'
import {usageError} from '../core/errors.js'
import {registerConfigSecret, registerSecret, scrub} from '../core/mask.js'
import {isInstanceId} from '../elements/callback-url.js'

export {envTwin} from '../core/config.js'

/** Every secret flag defined with {@link secret}: its name and its environment twin. */
export const SECRET_FLAGS = new Map<string, string>()

export interface SecretFlagOptions {
  description: string
  /** Goes into an HTTP header as it is (tokens, platform secrets): only printable Latin-1 is allowed. */
  header?: boolean
  helpGroup?: string
  /** Secrets inside the value that can be printed on their own (the password of `user:password`): masked too. */
  parts?: (value: string) => string[]
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
      for (const part of opts.parts?.(input) ?? []) registerSecret(part)
      checkValue(input, context?.token ? `--${name}` : env, {header: opts.header})
      return input
    },
  })()
}

/** `--basic-auth user:password`: a secret flag whose password is masked on its own too. */
export const basicAuthFlag = (description: string) => secret('basic-auth', {description, parts: v => (v.includes(':') ? [v.slice(v.indexOf(':') + 1)] : [])})

/**
 * The flag of a stored setting, from the settings table (core/config.ts): a secret one is a {@link secret} flag with
 * its environment twin; the others name their variable in --help (their value is resolved flag > variable > profile by
 * the settings, which say where it came from).
 */
export function settingFlag(key: SettingKey, opts: {description?: string; helpGroup?: string} = {}) {
  const s = SETTINGS[key]
  if (s.secret) return secret(s.flag, {description: opts.description ?? `${s.description}.`, header: s.header, helpGroup: opts.helpGroup})
  return Flags.string({description: opts.description ?? `${s.description} (${s.env}).`, helpGroup: opts.helpGroup})
}

const checkedInstanceId = (value: string, where: string): string => {
  if (!isInstanceId(value)) throw usageError(`Invalid ${where} "${value}": instance ids are numbers.`)
  return value
}

/**
 * A Cloud Elements / Open Connectors instance id flag (`--instance ID`): a positive integer, checked as it is parsed
 * (exit 2: `Invalid --instance "x": instance ids are numbers.`). The value stays the string typed.
 */
export const instanceIdFlag = Flags.custom<string>({
  async parse(input, context) {
    return checkedInstanceId(input, `--${context?.token?.flag ?? 'instance'}`)
  },
})

/** The instance id argument (`instance get ID`): checked as {@link instanceIdFlag} is (`Invalid instance id "x": …`). */
export const instanceIdArg = Args.custom<string>({
  async parse(input) {
    return checkedInstanceId(input, 'instance id')
  },
})

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

/** Credentials flags shared by every Pipedrive command (each also has its PDHOOKS_* variable). */
export const pipedriveFlags = {
  'pipedrive-access-token': settingFlag('pipedriveAccessToken', {helpGroup: 'CREDENTIALS'}),
  'pipedrive-token': settingFlag('pipedriveToken', {helpGroup: 'CREDENTIALS'}),
  'pipedrive-url': settingFlag('pipedriveUrl', {helpGroup: 'CREDENTIALS'}),
}

/** Credentials flags shared by every Cloud Elements / Open Connectors command. */
export const elementsFlags = {
  'elements-url': settingFlag('elementsUrl', {helpGroup: 'CREDENTIALS'}),
  'org-secret': settingFlag('orgSecret', {helpGroup: 'CREDENTIALS'}),
  'user-secret': settingFlag('userSecret', {helpGroup: 'CREDENTIALS'}),
}

/** The flags of `instance create`, shared with `setup`. */
export const instanceCreateFlags = {
  'callback-url': Flags.string({description: "Your app's endpoint that receives the platform's normalized events (required when events are on)."}),
  config: Flags.string({description: 'Extra configuration entry key=value (JSON objects parsed); overrides anything.', multiple: true}),
  events: Flags.string({default: 'webhook', description: 'Events mode.', options: ['webhook', 'polling', 'none']}),
  name: Flags.string({description: 'Instance name.'}),
  poll: Flags.string({description: 'Polling: resources to poll (comma-separated; default accounts,contacts,opportunities).'}),
  'poll-interval': Flags.integer({description: 'Polling: refresh interval in minutes (default 15).', min: 1}),
  'pipedrive-email': Flags.string({description: 'Pipedrive login email for the connector (PDHOOKS_PIPEDRIVE_EMAIL).'}),
  'pipedrive-password': secret('pipedrive-password', {description: 'Pipedrive login password for the connector.'}),
  'signature-key': secret('signature-key', {description: 'HMAC key: the platform signs its notifications (Elements-Webhook-Signature).'}),
  tag: Flags.string({description: 'Instance tag (repeatable).', multiple: true}),
}

/** Credentials flags of every Pipeliner command (each also has its PDHOOKS_PIPELINER_* variable). */
export const pipelinerFlags = {
  'pipeliner-password': settingFlag('pipelinerPassword', {helpGroup: 'CREDENTIALS'}),
  'pipeliner-url': settingFlag('pipelinerUrl', {helpGroup: 'CREDENTIALS'}),
  'pipeliner-username': settingFlag('pipelinerUsername', {helpGroup: 'CREDENTIALS'}),
}

/** The option flags of `pipeliner webhook add` (they build the webhook's `options`). */
export const pipelinerOptionFlags = {
  'chunk-delay': Flags.integer({description: 'options.chunk_delay: seconds; chunk N of a delivery waits N × this (Pipeliner default 0).', helpGroup: 'OPTIONS', min: 0}),
  'chunk-size': Flags.integer({
    description: 'options.chunk_size: items per delivery, 1..100 (Pipeliner default 100).', helpGroup: 'OPTIONS', max: 100, min: 1,
  }),
  'custom-entity': Flags.string({description: 'options.custom_entity_api_name: API name of a custom entity whose records fire CustomEntity.* events (repeatable).', helpGroup: 'OPTIONS', multiple: true}),
  expand: Flags.string({description: 'options.entity.<Entity>.expand: Entity:field,… (repeatable; related_entity:field,… sets options.related_entity).', helpGroup: 'OPTIONS', multiple: true}),
  filter: Flags.string({description: 'options.entity.<Entity>.filter: Entity.field=value (repeatable; the same field twice makes a list of values).', helpGroup: 'OPTIONS', multiple: true}),
  'filter-op': Flags.string({description: 'options.entity.<Entity>.filter-op: Entity.field=op, e.g. Opportunity.value=gt (Pipeliner default eq).', helpGroup: 'OPTIONS', multiple: true}),
  'load-only': Flags.string({description: 'options.entity.<Entity>.load-only: Entity:field,… (repeatable; related_entity:field,… sets options.related_entity).', helpGroup: 'OPTIONS', multiple: true}),
  'on-field-change': Flags.string({description: 'options.entity.<Entity>.on-field-change: Entity:field,… fire only when one of these fields changes (repeatable).', helpGroup: 'OPTIONS', multiple: true}),
  'options-file': Flags.string({description: 'JSON file with the webhook\'s options object; the option flags are merged over it (flags win).', helpGroup: 'OPTIONS'}),
  'skip-key': Flags.string({description: 'options.skip_keys: API requests sent with the header "Webhook-Skip-Key: <key>" do not fire the webhook (repeatable).', helpGroup: 'OPTIONS', multiple: true}),
}
