import {
  lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync,
} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join, resolve} from 'node:path'

import {ExitCode, PdhooksError, usageError} from './errors.js'
import {registerSecret} from './mask.js'
import {closest} from './suggest.js'

/** The current Cloud Elements instance of a profile. */
export interface CurrentInstance {
  elementsUrl?: string
  id: number | string
  name?: string
  token?: string
}

/**
 * The one table of stored settings: each one's flag (its environment twin is derived: {@link envTwin}), whether it is
 * a secret (masked everywhere) and whether it goes into an HTTP header (validated as one). The flags of `src/lib/cli`,
 * the profile's shape, the resolution order and the masking are all derived from it.
 */
const TABLE = {
  elementsUrl: {
    description: 'Platform base: URL, host, or us, eu, staging, sap-us2, sap-eu10, sap-us10', flag: 'elements-url', label: 'URL', secret: false, service: 'elements',
  },
  userSecret: {
    description: 'Platform user secret', flag: 'user-secret', header: true, label: 'user secret', secret: true, service: 'elements',
  },
  orgSecret: {
    description: 'Platform organization secret', flag: 'org-secret', header: true, label: 'organization secret', secret: true, service: 'elements',
  },
  pipedriveUrl: {
    description: 'Pipedrive API base or company domain', flag: 'pipedrive-url', label: 'URL', secret: false, service: 'pipedrive',
  },
  pipedriveToken: {
    description: 'Pipedrive API token', flag: 'pipedrive-token', header: true, label: 'API token', secret: true, service: 'pipedrive',
  },
  pipedriveAccessToken: {
    description: 'Pipedrive OAuth access token', flag: 'pipedrive-access-token', header: true, label: 'OAuth access token', secret: true, service: 'pipedrive',
  },
  pipelinerUrl: {
    description: 'Pipeliner service URL including the space', flag: 'pipeliner-url', label: 'URL', secret: false, service: 'pipeliner',
  },
  pipelinerUsername: {
    description: 'Pipeliner API key username', flag: 'pipeliner-username', label: 'username', secret: false, service: 'pipeliner',
  },
  pipelinerPassword: {
    description: 'Pipeliner API key password', flag: 'pipeliner-password', label: 'password', secret: true, service: 'pipeliner',
  },
} as const satisfies Record<string, Omit<SettingSpec, 'env'>>

export type SettingKey = keyof typeof TABLE
export type Source = 'default' | 'env' | 'flag' | 'profile'

export interface SettingSpec {
  /** What the flag's --help says (without the final period or the variable). */
  description: string
  /** The environment twin: `PDHOOKS_` + the flag in upper snake case. */
  env: string
  flag: string
  /** Sent in an HTTP header as it is: only printable Latin-1 (see {@link invalidCharacter}). */
  header?: boolean
  label: string
  secret: boolean
  service: 'elements' | 'pipedrive' | 'pipeliner'
}

/** The environment twin of a flag: `PDHOOKS_` + the flag name in upper snake case (`basic-auth` → `PDHOOKS_BASIC_AUTH`). */
export const envTwin = (flag: string): string => `PDHOOKS_${flag.toUpperCase().replaceAll('-', '_')}`

/** Every stored value: its flag, its variable, whether it is a secret (from the one table). */
export const SETTINGS = Object.fromEntries(Object.entries(TABLE).map(([k, s]) => [k, {...s, env: envTwin(s.flag)}])) as Record<SettingKey, SettingSpec>

export interface Profile extends Partial<Record<SettingKey, string>> {
  instance?: CurrentInstance
  /**
   * Pipeliner webhook ids an older pdhooks recorded as created by `apply`. Ownership is now recorded on the server
   * (apply's stack): this is only read to tell the user, and removed by the next apply that changes something.
   */
  owned?: {pipeliner?: string[]}
}

export interface ConfigData {
  profiles?: Record<string, Profile>
}

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[]

const NAMES: Record<number, string> = {
  0: 'a NUL character', 9: 'a tab', 10: 'a line feed (LF)', 13: 'a carriage return (CR)', 27: 'an escape character (ESC)', 127: 'a DEL character',
}

function describe(code: number): string {
  return NAMES[code] ?? `${code < 32 ? 'a control character' : 'the character'} U+${code.toString(16).toUpperCase().padStart(4, '0')}`
}

/**
 * Why `value` cannot be used, or undefined when it can. No value may hold a control character (a CR or LF pasted
 * with it, a file saved with Windows line endings); a value sent in an HTTP header (`header`) must also be a valid
 * header value: printable Latin-1, no tab.
 */
export function invalidCharacter(value: string, header = false): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const code = value.codePointAt(i)!
    const bad = header ? (code < 0x20 || code === 0x7F || code > 0xFF) : ((code < 0x20 && code !== 9) || code === 0x7F)
    if (bad) return `${describe(code)} at character ${i + 1}`
  }

  return undefined
}

/**
 * Rejects a value with a character it may not hold (exit 2), naming where it came from (`--flag`, a variable, or a
 * profile), never the value itself.
 */
export function checkValue(value: string | undefined, where: string, opts: {header?: boolean; hint?: string} = {}): void {
  if (value === undefined) return
  const why = invalidCharacter(value, opts.header)
  if (!why) return
  const hint = opts.hint ?? (/\((CR|LF)\)/.test(why)
    ? 'Remove it: a value pasted with a line break, or read from a file with Windows line endings, carries one.'
    : 'Remove it: an HTTP header cannot carry it (text copied from a document may hold typographic quotes or dashes).')
  throw usageError(`${where} contains ${why}.`, hint, 'invalid_value')
}

export function profileName(flag?: string): string {
  return flag || process.env.PDHOOKS_PROFILE || 'default'
}

export function configDir(fallback?: string): string {
  return process.env.PDHOOKS_CONFIG_DIR || fallback || join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'pdhooks')
}

/** How long a write waits for another pdhooks process to release the config lock (PDHOOKS_LOCK_TIMEOUT_MS in tests). */
const lockTimeoutMs = (): number => Number(process.env.PDHOOKS_LOCK_TIMEOUT_MS) || 5000
/** A lock not refreshed for this long belongs to a process that died: it is taken over. */
const LOCK_STALE_MS = 4000

function corrupt(path: string, error: unknown): PdhooksError {
  const why = error instanceof Error ? error.message.split('\n')[0] : String(error)
  return new PdhooksError(`The config file ${path} is not valid (${why}).`, {
    code: 'config_corrupt',
    exit: ExitCode.unexpected,
    hint: 'Fix it by hand or move it away; pdhooks leaves it untouched.',
  })
}

const WHY: Record<string, string> = {
  EACCES: 'permission denied',
  EEXIST: 'a file is in the way',
  ENOSPC: 'no space left on the device',
  ENOTDIR: 'a part of the path is not a folder',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
}

function unwritable(path: string, error: any): PdhooksError {
  const code = error?.code as string | undefined
  const why = code ? (WHY[code] ? `${WHY[code]}, ${code}` : code) : String(error?.message ?? error).split('\n')[0]
  return new PdhooksError(`Cannot write the config file ${path} (${why}).`, {
    code: 'config_unwritable',
    exit: ExitCode.unexpected,
    hint: `Make ${dirname(path)} writable, or set PDHOOKS_CONFIG_DIR to a writable folder.`,
  })
}

const sleep = (ms: number) => new Promise<void>(resolve => {
  setTimeout(resolve, ms)
})

/**
 * The config store: `<config dir>/config.json`, mode 0600, rewritten atomically (conf). Reads are plain file reads
 * (no schema machinery at start-up); writes go through conf, loaded only when something is stored. Every
 * read-modify-write holds a lock (`config.json.lock`, proper-lockfile) and re-reads the file under it, so concurrent
 * pdhooks processes lose nothing; a symlinked config file is written through the link.
 */
export class ConfigStore {
  readonly dir: string
  readonly path: string
  private cache?: ConfigData

  constructor(dir: string) {
    this.dir = dir
    this.path = join(dir, 'config.json')
  }

  async getProfile(name: string): Promise<Profile | undefined> {
    return this.read().profiles?.[name]
  }

  listProfiles(): string[] {
    return Object.keys(this.read().profiles ?? {})
  }

  /** The whole file, parsed; an empty object when it does not exist. A corrupt file is an error naming its path. */
  read(): ConfigData {
    if (this.cache) return this.cache
    let text: string
    try {
      text = readFileSync(this.path, 'utf8')
    } catch (error: any) {
      if (error?.code === 'ENOENT') {
        this.cache = {}
        return this.cache
      }

      throw new PdhooksError(`Cannot read the config file ${this.path} (${error?.code ?? error}).`, {exit: ExitCode.unexpected})
    }

    if (text.trim() === '') throw corrupt(this.path, 'the file is empty')
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch (error) {
      throw corrupt(this.path, error)
    }

    if (!data || typeof data !== 'object' || Array.isArray(data)) throw corrupt(this.path, 'not a JSON object')
    const {profiles} = (data as ConfigData)
    if (profiles !== undefined && (typeof profiles !== 'object' || profiles === null || Array.isArray(profiles))) {
      throw corrupt(this.path, '"profiles" is not an object')
    }

    for (const p of Object.values(profiles ?? {})) {
      for (const k of SETTING_KEYS) if (SETTINGS[k].secret) registerSecret(p?.[k])
      registerSecret(p?.instance?.token)
    }

    this.cache = data as ConfigData
    return this.cache
  }

  async removeProfile(name: string): Promise<boolean> {
    let existed = false
    await this.update(data => {
      existed = Boolean(data.profiles?.[name])
      if (data.profiles) delete data.profiles[name]
    })
    return existed
  }

  /** Forgets the profile's current instance when it is `id` (after that instance was deleted). */
  async clearInstance(name: string, id: number | string): Promise<boolean> {
    const current = (await this.getProfile(name))?.instance
    if (!current || String(current.id) !== String(id)) return false
    let cleared = false
    await this.update(data => {
      const p = data.profiles?.[name]
      if (!p?.instance || String(p.instance.id) !== String(id)) return
      delete p.instance
      cleared = true
    })
    return cleared
  }

  async removeAll(): Promise<string[]> {
    let names: string[] = []
    await this.update(data => {
      names = Object.keys(data.profiles ?? {})
      data.profiles = {}
    })
    return names
  }

  /**
   * Applies `fn` to the file as it is now and writes the result in one atomic write (mode 0600), holding the config
   * lock from the read to the write. A lock held by another process is waited for (a few seconds, then exit 1
   * naming the file); a lock left by a process that died is taken over.
   */
  async update(fn: (data: ConfigData) => void): Promise<void> {
    const release = await this.lock()
    try {
      this.ensureLinkTarget()
      this.cache = undefined
      const current = structuredClone(this.read())
      fn(current)
      const {default: Conf} = await import('conf')
      try {
        const conf = new Conf<Record<string, unknown>>({
          configFileMode: 0o600,
          configName: 'config',
          cwd: this.dir,
          projectName: 'pdhooks',
        })
        conf.store = current as Record<string, unknown>
      } catch (error: any) {
        if (error instanceof PdhooksError) throw error
        throw unwritable(this.path, error)
      }

      this.cache = current
    } finally {
      await release().catch(() => {})
    }
  }

  /** Takes the config lock (`config.json.lock`, a directory). */
  private async lock(): Promise<() => Promise<void>> {
    try {
      mkdirSync(this.dir, {mode: 0o700, recursive: true})
    } catch (error) {
      throw unwritable(this.path, error)
    }

    // a CommonJS module: its functions are on the default export once bundled, on the namespace too from source
    const mod = await import('proper-lockfile')
    const lockfile = (mod as unknown as {default?: typeof mod}).default ?? mod
    const deadline = Date.now() + lockTimeoutMs()
    for (;;) {
      try {
        return await lockfile.lock(this.path, {
          lockfilePath: `${this.path}.lock`,
          // a lock that cannot be refreshed only matters while this process writes, which takes milliseconds
          onCompromised() {},
          realpath: false,
          retries: 0,
          stale: LOCK_STALE_MS,
        })
      } catch (error: any) {
        if (error?.code !== 'ELOCKED') throw unwritable(this.path, error)
        if (Date.now() > deadline) {
          throw new PdhooksError(`The config file ${this.path} is locked by another pdhooks process.`, {
            code: 'config_locked',
            exit: ExitCode.unexpected,
            hint: `Try again; if no pdhooks is running, remove ${this.path}.lock.`,
          })
        }

        await sleep(10 + Math.floor(Math.random() * 40))
      }
    }
  }

  /**
   * conf writes through a symlinked config.json (it follows an existing link); a link to a file that does not exist yet
   * gets that file created first, so the link is never replaced by a plain file.
   */
  private ensureLinkTarget(): void {
    let link: string
    try {
      if (!lstatSync(this.path).isSymbolicLink()) return
      link = readlinkSync(this.path)
    } catch {
      return
    }

    try {
      realpathSync(this.path)
      return
    } catch (error: any) {
      if (error?.code !== 'ENOENT') throw unwritable(this.path, error)
    }

    const target = resolve(this.dir, link)
    try {
      mkdirSync(dirname(target), {mode: 0o700, recursive: true})
      writeFileSync(target, '{}\n', {flag: 'wx', mode: 0o600})
    } catch (error: any) {
      if (error?.code !== 'EEXIST') throw unwritable(target, error)
    }
  }

  async updateProfile(name: string, fn: (p: Profile) => Profile | void): Promise<Profile> {
    let result: Profile = {}
    await this.update(data => {
      data.profiles ??= {}
      const p = {...data.profiles[name]}
      result = fn(p) ?? p
      data.profiles[name] = result
    })
    return result
  }
}

export interface Resolved<T = string> {
  source: Source
  value: T | undefined
}

/**
 * Resolves each value by precedence flag > environment variable > profile. The profile (the config file) is read only
 * when a flag or variable does not already give the value.
 */
export class Settings {
  readonly flags: Partial<Record<SettingKey, string | undefined>>
  readonly profile: string
  readonly store: ConfigStore

  constructor(opts: {flags?: Partial<Record<SettingKey, string | undefined>>; profile: string; store: ConfigStore}) {
    this.flags = opts.flags ?? {}
    this.profile = opts.profile
    this.store = opts.store
    for (const k of SETTING_KEYS) {
      if (SETTINGS[k].secret) {
        registerSecret(this.flags[k])
        registerSecret(process.env[SETTINGS[k].env])
      }
    }
  }

  /**
   * When this profile was named (anything but "default") and nothing is stored under it: the error that says so and
   * lists the stored profiles (exit 2), to report instead of "no credentials". A profile only named to store into
   * (`auth login --profile new`) never reaches this.
   */
  missingProfile(): PdhooksError | undefined {
    if (this.profile === 'default') return undefined
    const names = this.store.listProfiles()
    if (names.includes(this.profile)) return undefined
    const guess = closest(this.profile, names)
    return new PdhooksError(
      `Profile "${this.profile}" does not exist (${names.length === 0 ? `no profile is stored in ${this.store.path}` : `stored profiles: ${names.join(', ')}`}).`,
      {
        code: 'profile_not_found',
        exit: ExitCode.usage,
        hint: `${guess ? `Did you mean --profile ${guess}? ` : ''}Store it with "pdhooks auth login --profile ${this.profile} …", or pass the credentials as flags or PDHOOKS_* variables.`,
      },
    )
  }

  async currentInstance(): Promise<CurrentInstance | undefined> {
    return (await this.store.getProfile(this.profile))?.instance
  }

  /** A value flag > variable > profile; a value a header cannot carry is exit 2 naming where it came from. */
  async get(key: SettingKey): Promise<Resolved> {
    const spec = SETTINGS[key]
    const flag = this.flags[key]
    if (flag !== undefined && flag !== '') {
      checkValue(flag, `--${spec.flag}`, {header: spec.header})
      return {source: 'flag', value: flag}
    }

    const env = process.env[spec.env]
    if (env !== undefined && env !== '') {
      checkValue(env, spec.env, {header: spec.header})
      return {source: 'env', value: env}
    }

    const stored = (await this.store.getProfile(this.profile))?.[key]
    if (stored !== undefined && stored !== '') {
      checkValue(stored, `The ${spec.label} stored in profile "${this.profile}" (${this.store.path})`, {
        header: spec.header,
        hint: `Store it again: pdhooks auth login --profile ${this.profile} --${spec.flag} …`,
      })
      return {source: 'profile', value: stored}
    }

    return {source: 'default', value: undefined}
  }

  async value(key: SettingKey): Promise<string | undefined> {
    return (await this.get(key)).value
  }
}
