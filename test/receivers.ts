// Small HTTP peers shared by the delivery tests (listener, journal, replay, trigger): a POST helper, a server that
// records what it receives, and one that never answers.
import {once} from 'node:events'
import http from 'node:http'
import net, {type AddressInfo} from 'node:net'

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

export interface Captured {
  body: Buffer
  headers: http.IncomingHttpHeaders
  method: string
  url: string
}

export interface CaptureServer {
  close(): Promise<void>
  /** Every request received, in order. */
  got: Captured[]
  url: string
}

/** A server on a free loopback port that records each request and answers `status` after `delayMs`. */
export async function captureServer(opts: {delayMs?: number; path?: string; status?: number} = {}): Promise<CaptureServer> {
  const got: Captured[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      got.push({
        body: Buffer.concat(chunks), headers: req.headers, method: req.method ?? '', url: req.url ?? '',
      })
      setTimeout(() => {
        res.writeHead(opts.status ?? 200, {'content-type': 'application/json'})
        res.end('{}')
      }, opts.delayMs ?? 0)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const {port} = server.address() as AddressInfo
  return {
    async close() {
      server.closeAllConnections()
      await new Promise(r => {
        server.close(r)
      })
    },
    got,
    url: `http://127.0.0.1:${port}${opts.path ?? '/'}`,
  }
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
