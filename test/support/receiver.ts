// The HTTP peers of the tests: one receiver (records every request, answers as told), a black hole (accepts and never
// answers), a free port (nothing listens there), and a bare POST.
import {once} from 'node:events'
import http, {type IncomingHttpHeaders} from 'node:http'
import net, {type AddressInfo} from 'node:net'

import {waitFor} from './wait.js'

/** POSTs a body (JSON content-type unless headers say otherwise) and resolves with the status. */
export function post(url: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {agent: false, headers: {'content-type': 'application/json', ...headers}, method: 'POST'}, res => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

export interface Received {
  method: string
  /** The request target: path and query. */
  path: string
  headers: IncomingHttpHeaders
  /** The body's bytes. */
  body: Buffer
  /** The body as UTF-8 text (what signatures are computed over). */
  raw: string
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any
}

/** How to answer one request: a status, or a status after a delay (real ms). */
export type Answer = number | {delayMs?: number; status: number}

export interface ReceiverOptions {
  /** The path of `url` (default `/hook`); the receiver answers on every path. */
  path?: string
  /** The answer to the n-th request (0-based); default: `receiver.status` at once. */
  respond?: (n: number, r: Received) => Answer
  /** The status answered when `respond` is not given (default 200; also settable later through `receiver.status`). */
  status?: number
  /** Delay every answer by this many ms (when `respond` does not say). */
  delayMs?: number
}

export interface Receiver {
  /** `http://127.0.0.1:<port><path>` */
  url: string
  port: number
  /** Every request received, in order. */
  received: Received[]
  /** The status answered (when no `respond` function was given). */
  status: number
  /** Resolves with the requests once `n` arrived; rejects after `timeoutMs` (default 5000). */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>
  close(): Promise<void>
}

/** Starts an HTTP server on a free loopback port that records each request and answers `{"ok":true}`. */
export async function receiver(opts: ReceiverOptions | ReceiverOptions['respond'] = {}): Promise<Receiver> {
  const o: ReceiverOptions = typeof opts === 'function' ? {respond: opts} : opts
  const received: Received[] = []
  const timers = new Set<NodeJS.Timeout>()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const raw = body.toString('utf8')
      let json: unknown
      try {
        json = JSON.parse(raw)
      } catch {
        json = undefined
      }

      const r: Received = {
        body, headers: req.headers, json, method: req.method ?? '', path: req.url ?? '', raw,
      }
      const n = received.length
      received.push(r)
      const answer = o.respond ? o.respond(n, r) : {delayMs: o.delayMs, status: rx.status}
      const {delayMs = 0, status} = typeof answer === 'number' ? {status: answer} : answer
      const send = (): void => {
        if (!res.destroyed) res.writeHead(status, {'content-type': 'application/json'}).end('{"ok":true}')
      }

      if (delayMs > 0) {
        const t = setTimeout(() => {
          timers.delete(t)
          send()
        }, delayMs)
        timers.add(t)
      } else send()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const {port} = server.address() as AddressInfo
  const rx: Receiver = {
    url: `http://127.0.0.1:${port}${o.path ?? '/hook'}`,
    port,
    received,
    status: o.status ?? 200,
    waitFor: (n, timeoutMs = 5000) => waitFor(() => `${n} request(s) at the receiver (got ${received.length})`, () => (received.length >= n ? received : undefined), {timeoutMs}) as Promise<Received[]>,
    async close() {
      for (const t of timers) clearTimeout(t)
      server.closeAllConnections()
      await new Promise(resolve => {
        server.close(resolve)
      })
    },
  }
  return rx
}

export interface BlackHole {
  close(): Promise<void>
  url: string
}

/** A TCP server on a free loopback port that accepts connections, reads them, and never answers. */
export async function blackHole(): Promise<BlackHole> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer(socket => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.resume()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise(r => {
        server.close(r)
      })
    },
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
  }
}

/** A loopback port nothing listens on (it was free a moment ago): connections to it are refused. */
export async function freePort(): Promise<number> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const {port} = server.address() as AddressInfo
  await new Promise(resolve => {
    server.close(resolve)
  })
  return port
}
