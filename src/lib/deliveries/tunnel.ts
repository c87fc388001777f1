/**
 * `listen --tunnel cloudflared|ngrok`: starts the user's own tunnel program (no tunnel of pdhooks' own), reads the public
 * URL it was given, and stops it on exit.
 *
 * - cloudflared (`cloudflared tunnel --url http://127.0.0.1:PORT --no-autoupdate`) prints its quick-tunnel URL,
 *   `https://<words>.trycloudflare.com`, on stderr (its error messages name `https://api.trycloudflare.com`: not a URL
 *   to use).
 * - ngrok (`ngrok http http://127.0.0.1:PORT --log stdout --log-format json`) serves its tunnels at its local API,
 *   `http://127.0.0.1:4040/api/tunnels` (the next free port when 4040 is taken: the address comes from its "starting web
 *   service" log line). Only the tunnel whose `config.addr` is this listener's port is taken: another ngrok already
 *   running on the machine must not lend its URL.
 *
 * The program runs in its own process group, so that a Ctrl-C at the terminal reaches pdhooks alone: pdhooks deletes its
 * webhooks first, then stops the tunnel. It is also killed when the process exits by any other path.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {accessSync, constants, statSync} from 'node:fs'
import http from 'node:http'
import {delimiter, join} from 'node:path'

import {ExitCode, PdhooksError, usageError} from '../core/errors.js'
import {printable} from './printable.js'

export const TUNNEL_PROGRAMS = ['cloudflared', 'ngrok'] as const
export type TunnelProgram = (typeof TUNNEL_PROGRAMS)[number]

const INSTALL_HINT: Record<TunnelProgram, string> = {
  cloudflared: 'Install it (https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/, e.g. "brew install cloudflared" or the cloudflared .deb), or give --public-url with a URL that reaches this machine.',
  ngrok: 'Install it (https://ngrok.com/download, then "ngrok config add-authtoken TOKEN" once), or give --public-url with a URL that reaches this machine.',
}

/** cloudflared's quick-tunnel URL (not its API host, which its error messages name). */
const CLOUDFLARED_URL = /https:\/\/(?!api\.)[\da-z](?:[\da-z-]*[\da-z])?\.trycloudflare\.com(?![\w.-])/i

/** The first `https://….trycloudflare.com` quick-tunnel URL in a line of cloudflared's output. */
export function cloudflaredUrl(line: string): string | undefined {
  return CLOUDFLARED_URL.exec(line)?.[0].toLowerCase()
}

/** The executable `name` on `PATH`, or undefined. */
export function findOnPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : ['']
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue
    for (const ext of exts) {
      const file = join(dir, name + ext)
      try {
        if (!statSync(file).isFile()) continue
        accessSync(file, constants.X_OK)
        return file
      } catch {
        // not there, or not executable
      }
    }
  }

  return undefined
}

export interface TunnelOptions {
  /** The local listener's address (default 127.0.0.1). */
  host?: string
  /** The local listener's port. */
  port: number
  /** Aborted: stop waiting for the URL, stop the program (the error has code "aborted"). */
  signal?: AbortSignal
  /** Time to wait for the public URL, in ms. */
  timeoutMs: number
  /** Called once if the program ends on its own after the URL was found (not when stop() ends it). */
  onExit?: (why: string) => void
}

export interface Tunnel {
  readonly program: TunnelProgram
  /** The public URL (no trailing slash). */
  readonly url: string
  readonly pid: number
  /** Stops the program (SIGTERM, then SIGKILL after 3 s). Safe to call more than once. */
  stop(): Promise<void>
}

/** The last lines a program printed, for error messages (escaped, cut). */
class Tail {
  private lines: string[] = []

  push(line: string): void {
    const l = line.trim()
    if (!l) return
    this.lines.push(l)
    if (this.lines.length > 3) this.lines.shift()
  }

  text(): string {
    return this.lines.length === 0 ? 'nothing' : `"${printable(this.lines.join(' / '), 300)}"`
  }
}

/** Calls `onLine` for every complete line of a stream. */
function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return
  let rest = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    rest += chunk
    let i: number
    while ((i = rest.indexOf('\n')) !== -1) {
      onLine(rest.slice(0, i).replace(/\r$/, ''))
      rest = rest.slice(i + 1)
    }

    if (rest.length > 65_536) rest = rest.slice(-65_536)
  })
  stream.on('end', () => {
    if (rest) onLine(rest)
    rest = ''
  })
}

/** GET a local JSON document (ngrok's API); undefined when it cannot be had yet. */
function getJson(url: string): Promise<unknown> {
  return new Promise(resolve => {
    const req = http.get(url, {timeout: 2000}, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined)
        } catch {
          resolve(null)
        }
      })
      res.on('error', () => resolve(null))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(null))
  })
}

/** The public URL of the ngrok tunnel that forwards to `port`, from `GET /api/tunnels`. */
export function ngrokTunnelUrl(doc: unknown, port: number): string | undefined {
  const tunnels = (doc as {tunnels?: unknown})?.tunnels
  if (!Array.isArray(tunnels)) return undefined
  const ours = tunnels.filter(t => {
    const addr = String((t as {config?: {addr?: unknown}})?.config?.addr ?? '')
    return addr === String(port) || new RegExp(`:${port}/?$`).test(addr)
  })
  const urls = ours.map(t => String((t as {public_url?: unknown}).public_url ?? '')).filter(u => /^https?:\/\//.test(u))
  return urls.find(u => u.startsWith('https://')) ?? urls[0]
}

/**
 * Starts `program` towards `http://127.0.0.1:<port>` and resolves with its public URL. Errors: the program is not on
 * the PATH (exit 2, with the install hint), it ends before giving a URL, or no URL within `timeoutMs` (exit 6, with its
 * last output); the program is stopped in every failure.
 */
export async function startTunnel(program: TunnelProgram, opts: TunnelOptions): Promise<Tunnel> {
  if (!(TUNNEL_PROGRAMS as readonly string[]).includes(program)) {
    throw usageError(`Unknown tunnel "${program}".`, `Use --tunnel ${TUNNEL_PROGRAMS.join(' or --tunnel ')}.`)
  }

  const file = findOnPath(program)
  if (!file) {
    throw new PdhooksError(`--tunnel ${program}: "${program}" was not found on the PATH.`, {
      code: 'tunnel_not_found', exit: ExitCode.usage, hint: INSTALL_HINT[program],
    })
  }

  const host = !opts.host || opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host
  const local = `http://${host.includes(':') ? `[${host}]` : host}:${opts.port}`
  const args = program === 'cloudflared'
    ? ['tunnel', '--url', local, '--no-autoupdate']
    : ['http', local, '--log', 'stdout', '--log-format', 'json']
  let child: ChildProcess
  try {
    child = spawn(file, args, {detached: true, stdio: ['ignore', 'pipe', 'pipe']})
  } catch (error) {
    throw new PdhooksError(`--tunnel ${program}: cannot start ${file}: ${(error as Error).message}.`, {code: 'tunnel_failed', exit: ExitCode.usage, hint: INSTALL_HINT[program]})
  }

  const tail = new Tail()
  let exited: null | string = null
  let stopping = false
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig)
    } catch {
      try {
        child.kill(sig)
      } catch {
        // gone
      }
    }
  }

  // whatever way the process ends, the tunnel does not outlive it
  const onProcessExit = () => killGroup('SIGKILL')
  process.once('exit', onProcessExit)
  const ended = new Promise<void>(resolve => {
    child.once('exit', (code, signal) => {
      exited = signal ? `ended by ${signal}` : `exited with code ${code}`
      process.off('exit', onProcessExit)
      resolve()
    })
  })
  const spawnFailed = new Promise<Error>(resolve => {
    child.once('error', resolve)
  })

  let found: string | undefined
  let apiAddr = '127.0.0.1:4040'
  const onLine = (line: string) => {
    if (program === 'cloudflared') {
      found ??= cloudflaredUrl(line)
      if (!/trycloudflare\.com\s*\|?\s*$/.test(line)) tail.push(line.replace(/^\S+\s+(INF|WRN|ERR)\s+/, ''))
      return
    }

    let entry: Record<string, unknown> | undefined
    try {
      const parsed = JSON.parse(line)
      if (parsed && typeof parsed === 'object') entry = parsed as Record<string, unknown>
    } catch {
      // not a JSON log line
    }

    if (!entry) {
      tail.push(line)
      return
    }

    if (entry.msg === 'starting web service' && typeof entry.addr === 'string') apiAddr = entry.addr
    if (entry.lvl === 'eror' || entry.lvl === 'crit' || entry.lvl === 'error' || entry.err) tail.push(String(entry.err ?? entry.msg ?? line))
  }

  lines(child.stdout, onLine)
  lines(child.stderr, onLine)

  const fail = async (message: string, exit: number, hint: string) => {
    stopping = true
    killGroup('SIGTERM')
    await Promise.race([ended, new Promise(resolve => {
      setTimeout(resolve, 2000).unref()
    })])
    killGroup('SIGKILL')
    process.off('exit', onProcessExit)
    return new PdhooksError(message, {code: exit === ExitCode.interrupted ? 'aborted' : 'tunnel_failed', exit, hint: hint || undefined})
  }

  const deadline = Date.now() + opts.timeoutMs
  for (;;) {
    if (program === 'ngrok' && !found) found = ngrokTunnelUrl(await getJson(`http://${apiAddr}/api/tunnels`), opts.port)
    if (found) break
    if (opts.signal?.aborted) throw await fail(`Stopped while waiting for ${program}'s public URL.`, ExitCode.interrupted, '')
    if (exited) {
      throw await fail(`${program} ${exited} before giving a public URL (its last output: ${tail.text()}).`, ExitCode.unavailable, program === 'ngrok'
        ? 'Check that ngrok has an authtoken ("ngrok config add-authtoken TOKEN"), or give --public-url.'
        : 'Check your network (cloudflared needs to reach Cloudflare), or give --public-url.')
    }

    if (Date.now() >= deadline) {
      throw await fail(`${program} gave no public URL within ${Math.round(opts.timeoutMs / 1000)} s (its last output: ${tail.text()}).`, ExitCode.unavailable, 'Try again, raise --tunnel-timeout, or give --public-url.')
    }

    const step = Math.min(200, Math.max(0, deadline - Date.now()))
    const err = await Promise.race([spawnFailed, ended, new Promise<void>(resolve => {
      setTimeout(resolve, step)
    })])
    if (err) throw await fail(`--tunnel ${program}: cannot start ${file}: ${err.message}.`, ExitCode.usage, INSTALL_HINT[program])
  }

  const url = found.replace(/\/+$/, '')
  ended.then(() => {
    if (!stopping) opts.onExit?.(`${program} ${exited}${tail.text() === 'nothing' ? '' : ` (its last output: ${tail.text()})`}`)
  }, () => {})
  let stopped: Promise<void> | undefined
  return {
    pid: child.pid ?? 0,
    program,
    stop() {
      stopped ??= (async () => {
        stopping = true
        if (exited) return
        killGroup('SIGTERM')
        const timer = setTimeout(() => killGroup('SIGKILL'), 3000)
        await ended
        clearTimeout(timer)
      })()
      return stopped
    },
    url,
  }
}
