// Helpers of the end-to-end suite: the built CLI (bin/run.js) runs as a child process against a sandbox started in the
// test process, over real HTTP. Nothing inside the CLI is stubbed.
/* eslint-disable mocha/no-exports, mocha/no-top-level-hooks, mocha/no-sibling-hooks -- a helper module: useSandbox() and
   ensureBuilt() register the hooks of the describe() that calls them */
import {spawn} from 'node:child_process'
import {
  mkdtempSync, readdirSync, rmSync, statSync,
} from 'node:fs'
import Module from 'node:module'
import {tmpdir} from 'node:os'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

// @ts-expect-error plain JS helper
import {buildIfStale as buildIfStaleShared} from '../../scripts/manifest-guard.js'
import {type Sandbox, type SandboxOptions, startSandbox} from '../../src/lib/sandbox/index.js'
import {track} from '../support/children.js'
import {PL_SPACE} from '../support/fixtures.js'
import {sleep} from '../support/wait.js'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const binRun = join(root, 'bin', 'run.js')

/** Distinctive credentials (the sandbox accepts any non-empty ones): none may ever be printed in full. */
export const CREDENTIALS = {
  PDHOOKS_PIPEDRIVE_TOKEN: 'e2e-pd-token-SECRET-0123456789',
  PDHOOKS_USER_SECRET: 'e2e-user-secret-SECRET-4567',
  PDHOOKS_ORG_SECRET: 'e2e-org-secret-SECRET-8901',
  PDHOOKS_PIPELINER_USERNAME: 'e2e-api-key',
  PDHOOKS_PIPELINER_PASSWORD: 'e2e-pl-password-SECRET-2345',
}

/** Other secrets the tests pass on command lines or in files. */
export const PD_PASSWORD = 'e2e-pd-login-SECRET-6789'
/** The Pipedrive login flags of setup and instance create (the sandbox accepts any email with this password). */
export const PD_LOGIN = ['--pipedrive-email', 'ops@example.com', '--pipedrive-password', PD_PASSWORD]
export const SIGNATURE_KEY = 'e2e-signature-key-SECRET-0123'
export const HOOK_PASSWORD = 'e2e-hook-password-SECRET-4567'

/** Every value that must never appear in full in the CLI's output. */
export const SECRETS = [
  CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN,
  CREDENTIALS.PDHOOKS_USER_SECRET,
  CREDENTIALS.PDHOOKS_ORG_SECRET,
  CREDENTIALS.PDHOOKS_PIPELINER_PASSWORD,
  PD_PASSWORD,
  SIGNATURE_KEY,
  HOOK_PASSWORD,
]

/** The masked form of a secret (SPEC §2): the first 4 characters and `…`, or `****` when shorter than 12. */
export const masked = (secret: string): string => (secret.length < 12 ? '****' : `${secret.slice(0, 4)}…`)

// ---------------------------------------------------------------------------------------------------------------
// Build

let built = false

/** Builds once per process, only when the build is missing or stale (see scripts/manifest-guard.js). */
export function buildIfStale(): void {
  if (built) return
  buildIfStaleShared(root)
  built = true
}

/** Registers a mocha `before` hook that builds the CLI when needed. Call it inside each e2e `describe`. */
export function ensureBuilt(): void {
  before(function () {
    this.timeout(180_000)
    buildIfStale()
  })
}

// ---------------------------------------------------------------------------------------------------------------
// The CLI as a child process

export interface CliResult {
  code: null | number
  stdout: string
  stderr: string
  /** stdout parsed as exactly one JSON document (throws, showing the output, otherwise); `T`: the command's result type. */
  json<T = any>(): T
}

export interface CliOptions {
  env?: Record<string, string | undefined>
  /** Written to stdin, which is then closed (stdin is closed at once without it). */
  input?: string
  timeoutMs?: number
  /** Fail when a known secret appears in full in stdout or stderr (default true). */
  checkSecrets?: boolean
  /** Run as another user (tests that need permissions to apply while running as root). */
  spawn?: {gid: number; uid: number}
}

/** Does this Node have module.enableCompileCache() (Node >= 22.8), which bin/run.js uses when present? */
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- feature-tested
export const hasCompileCache = typeof (Module as {enableCompileCache?: unknown}).enableCompileCache === 'function'

/** Every file under `dir` with its size and modification time (to show that a run wrote nothing there). */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const e of readdirSync(dir, {recursive: true, withFileTypes: true})) {
    if (e.isFile()) {
      const s = statSync(join(e.parentPath, e.name))
      out[relative(dir, join(e.parentPath, e.name))] = `${s.size} ${s.mtimeMs}`
    }
  }

  return out
}

/** Node's compile cache of the CLI runs (Node >= 22.8), one folder per test process: never the developer's own. */
export const cacheDir = mkdtempSync(join(tmpdir(), 'pdhooks-e2e-cache-'))
process.once('exit', () => rmSync(cacheDir, {force: true, recursive: true}))

/**
 * The inherited environment without anything that could change pdhooks' behaviour (PDHOOKS_*, DEBUG), nor c8's
 * coverage variable (the CLI runs the bundle: its coverage would only be noise).
 */
export function cleanEnv(): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('PDHOOKS_') || k === 'DEBUG' || k === 'NODE_OPTIONS' || k === 'NODE_ENV' || k === 'NODE_V8_COVERAGE') continue
    out[k] = v
  }

  out.CI = 'true'
  out.NO_COLOR = '1'
  out.PDHOOKS_CACHE_DIR = cacheDir
  return out
}

/** Every command line run so far (for failure messages). */
export const history: string[] = []

/** Shows a command line the way a shell user would type it. */
export function shellLine(args: string[]): string {
  return ['pdhooks', ...args.map(a => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", String.raw`'\''`)}'`))].join(' ')
}

/**
 * Runs `node bin/run.js …args` and resolves with its exit code and output (never rejects on a non-zero exit).
 * Set E2E_TIMING=1 to print each command's wall time on stderr.
 */
export async function pdhooks(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = cleanEnv()
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }

  history.push(shellLine(args))
  const child = spawn(process.execPath, [binRun, ...args], {
    cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'], ...opts.spawn,
  })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (b: Buffer) => out.push(b))
  child.stderr.on('data', (b: Buffer) => err.push(b))
  child.stdin.on('error', () => {})
  child.stdin.end(opts.input ?? '')
  const timeoutMs = opts.timeoutMs ?? 20_000
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, timeoutMs)
  const t0 = Date.now()
  const code = await new Promise<null | number>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', c => resolve(c))
  }).finally(() => clearTimeout(timer))
  const stdout = Buffer.concat(out).toString('utf8')
  if (process.env.E2E_TIMING) console.error(`${Date.now() - t0}ms ${shellLine(args)}`)
  const stderr = Buffer.concat(err).toString('utf8')
  if (timedOut) throw new Error(`${shellLine(args)} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`)
  if (opts.checkSecrets !== false) {
    for (const s of SECRETS) {
      if (stdout.includes(s) || stderr.includes(s)) {
        throw new Error(`${shellLine(args)} printed the secret ${masked(s)} in full\nstdout: ${stdout}\nstderr: ${stderr}`)
      }
    }
  }

  return {
    code,
    stdout,
    stderr,
    json<T>(): T {
      try {
        return JSON.parse(stdout) as T
      } catch (error) {
        throw new Error(`${shellLine(args)}: stdout is not exactly one JSON document (${(error as Error).message})\nstdout: ${stdout}\nstderr: ${stderr}`)
      }
    },
  }
}

/** A CLI child process still running: its outcome once it ends, and a way to signal it (Ctrl-C, SIGTERM). */
export interface Running {
  done: Promise<{code: null | number; ms: number; signal: NodeJS.Signals | null; stderr: string; stdout: string}>
  kill(signal: NodeJS.Signals): void
}

/** Starts `node bin/run.js …args` with `env` over a clean environment, stdin closed; killed after `timeoutMs` (25 s). */
export function startCli(args: string[], env: Record<string, string> = {}, timeoutMs = 25_000): Running {
  history.push(shellLine(args))
  const child = track(spawn(process.execPath, [binRun, ...args], {cwd: root, env: {...cleanEnv(), ...env}, stdio: ['pipe', 'pipe', 'pipe']}))
  child.stdin.end()
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (b: Buffer) => out.push(b))
  child.stderr.on('data', (b: Buffer) => err.push(b))
  const t0 = Date.now()
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const done = new Promise<{code: null | number; signal: NodeJS.Signals | null}>(resolve => {
    child.once('close', (code, signal) => resolve({code, signal}))
  }).then(r => {
    clearTimeout(killer)
    return {
      ...r, ms: Date.now() - t0, stderr: Buffer.concat(err).toString('utf8'), stdout: Buffer.concat(out).toString('utf8'),
    }
  })
  return {done, kill: s => child.kill(s)}
}

/** A readable failure message for an unexpected exit code. */
export function explain(r: CliResult): string {
  return `${history.at(-1) ?? ''}\nexit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`
}

// ---------------------------------------------------------------------------------------------------------------
// The sandbox, per suite

export interface LoggedRequest {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string>
  body: any
  time: string
}

export interface SandboxApiReply<T = any> {
  status: number
  /** Response headers, names in lower case. */
  headers: Record<string, string>
  body: T
}

/** Node's built-in fetch (stable on Node 20; the lint rule flags it as experimental before 21). */
// eslint-disable-next-line n/no-unsupported-features/node-builtins
const rawFetch = globalThis.fetch

export interface E2E {
  /** The sandbox of the suite (started in `before`). */
  readonly sandbox: Sandbox
  /** The sandbox base URL `http://127.0.0.1:<port>`. */
  readonly url: string
  /** This test's config folder (a new temporary one per test). */
  readonly configDir: string
  /** This test's environment: sandbox variables, credentials, config folder, short retries. */
  readonly env: Record<string, string>
  /** Runs the CLI with this test's environment (plus `opts.env`). */
  run(args: string[], opts?: CliOptions): Promise<CliResult>
  /** A raw request to the sandbox (test hooks, or its APIs directly). A JSON body is sent as JSON. */
  api<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<SandboxApiReply<T>>
  /** POST /sandbox/faults (one fault or several). */
  fault(f: Record<string, unknown> | Array<Record<string, unknown>>): Promise<void>
  /** GET /sandbox/requests (only API requests: the hooks are not logged). */
  requests(pathPrefix?: string): Promise<LoggedRequest[]>
  /** GET /sandbox/state */
  state(): Promise<any>
  /** Creates Pipedrive webhooks through the sandbox API directly (as the CLI's user unless `token` is given). */
  seedPipedrive(n: number, over?: (i: number) => Record<string, unknown>, token?: string): Promise<any[]>
  /** Creates Pipeliner webhooks through the sandbox API directly. */
  seedPipeliner(n: number, over?: (i: number) => Record<string, unknown>): Promise<any[]>
}

/**
 * Declares a sandbox for the enclosing `describe`: started in `before`, reset (`POST /sandbox/reset`) and given a
 * fresh config folder before each test, closed in `after`. Also registers {@link ensureBuilt}.
 */
export function useSandbox(opts: SandboxOptions = {}): E2E {
  let sandbox: Sandbox | undefined
  let configDir = ''
  ensureBuilt()
  before(async () => {
    sandbox = await startSandbox({port: 0, ...opts})
  })
  after(async () => {
    await sandbox?.close()
    sandbox = undefined
  })
  beforeEach(async () => {
    await ctx.api('POST', '/sandbox/reset')
    configDir = mkdtempSync(join(tmpdir(), 'pdhooks-e2e-'))
  })
  afterEach(() => {
    if (configDir) rmSync(configDir, {force: true, recursive: true})
    configDir = ''
  })

  const need = (): Sandbox => {
    if (!sandbox) throw new Error('the sandbox is not running (use ctx inside tests and hooks)')
    return sandbox
  }

  const ctx: E2E = {
    get sandbox() {
      return need()
    },
    get url() {
      return need().url
    },
    get configDir() {
      return configDir
    },
    get env() {
      return {
        ...need().env(),
        ...CREDENTIALS,
        PDHOOKS_CONFIG_DIR: configDir,
        PDHOOKS_RETRY_BASE_MS: '20',
      }
    },
    run(args, o = {}) {
      return pdhooks(args, {...o, env: {...ctx.env, ...o.env}})
    },
    async api(method, path, body, headers = {}) {
      const res = await rawFetch(need().url + path, body === undefined
        ? {headers, method}
        : {body: typeof body === 'string' ? body : JSON.stringify(body), headers: {'content-type': 'application/json', ...headers}, method})
      const text = await res.text()
      let parsed: any = text
      try {
        parsed = text === '' ? null : JSON.parse(text)
      } catch {
        // not JSON: keep the text
      }

      const h: Record<string, string> = {}
      res.headers.forEach((v, k) => {
        h[k] = v
      })
      return {status: res.status, headers: h, body: parsed}
    },
    async fault(f) {
      const r = await ctx.api('POST', '/sandbox/faults', f)
      if (r.status !== 201) throw new Error(`fault refused: ${JSON.stringify(r.body)}`)
    },
    async requests(prefix) {
      return (await ctx.api('GET', '/sandbox/requests' + (prefix ? `?path=${encodeURIComponent(prefix)}` : ''))).body
    },
    async state() {
      return (await ctx.api('GET', '/sandbox/state')).body
    },
    async seedPipedrive(n, over = () => ({}), token = CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN) {
      const made = []
      for (let i = 0; i < n; i++) {
        const body = {
          event_action: 'change', event_object: 'deal', name: `seed ${i}`, subscription_url: `https://seed.example.com/${i}`, version: '2.0', ...over(i),
        }
        for (;;) {
          const r = await ctx.api('POST', '/v1/webhooks', body, {'x-api-token': token})
          if (r.status === 429) {
            await sleep(Number(r.headers['retry-after'] ?? '1') * 1000)
            continue
          }

          if (r.status !== 201) throw new Error(`seeding webhook ${i}: ${r.status} ${JSON.stringify(r.body)}`)
          made.push(r.body.data)
          break
        }
      }

      return made
    },
    async seedPipeliner(n, over = () => ({})) {
      const auth = 'Basic ' + Buffer.from(`${CREDENTIALS.PDHOOKS_PIPELINER_USERNAME}:${CREDENTIALS.PDHOOKS_PIPELINER_PASSWORD}`).toString('base64')
      const made = []
      for (let i = 0; i < n; i++) {
        const r = await ctx.api('POST', `${PL_SPACE}/entities/Webhooks`, {
          url: `https://seed.example.com/pl/${i}`, events: ['Account.Create'], insecure_ssl: false, ...over(i),
        }, {authorization: auth})
        if (r.status !== 201) throw new Error(`seeding Pipeliner webhook ${i}: ${r.status} ${JSON.stringify(r.body)}`)
        made.push(r.body.data)
      }

      return made
    },
  }
  return ctx
}

/** Splits a command line the way a POSIX shell would (quotes and backslashes; no expansion). */
export function shellWords(line: string): string[] {
  const words: string[] = []
  let word: null | string = null
  let quote: '"' | "'" | null = null
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quote === "'") {
      if (ch === "'") quote = null
      else word += ch
    } else if (quote === '"') {
      if (ch === '"') quote = null
      else if (ch === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) word += line[++i]
      else word += ch
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word)
      word = null
    } else if (ch === "'" || ch === '"') {
      quote = ch
      word ??= ''
    } else if (ch === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i]
    } else word = (word ?? '') + ch
  }

  if (quote) throw new Error(`unterminated quote in: ${line}`)
  if (word !== null) words.push(word)
  return words
}

/** `pdhooks listen` as a child process: its URL once "Ready:" is printed, and a promise of its exit. */
export function listen(args: string[]): Promise<{exited: Promise<{code: null | number; stderr: string; stdout: string}>; url: string}> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(process.execPath, [binRun, 'listen', '--port', '0', ...args], {env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe']}))
    let stdout = ''
    let stderr = ''
    const exited = new Promise<{code: null | number; stderr: string; stdout: string}>(done => {
      child.on('exit', code => done({code, stderr, stdout}))
    })
    child.stdout.on('data', d => {
      stdout += d
    })
    child.stderr.on('data', d => {
      stderr += d
      const m = /Ready: (\S+)/.exec(stderr)
      if (m) resolve({exited, url: m[1]})
    })
    child.on('exit', () => reject(new Error(`listen exited before it was ready: ${stderr}`)))
  })
}
