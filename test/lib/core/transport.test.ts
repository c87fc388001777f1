// The transport under the service clients (lib/core/transport.ts), against real servers on loopback: what it sends,
// how it decodes, and how each way an exchange can go wrong reaches core/http.ts (the code it classifies).
import {expect} from 'chai'
import {createServer as createHttpServer, type IncomingMessage, type ServerResponse} from 'node:http'
import {createServer as createNetServer, type Socket} from 'node:net'
import {
  brotliCompressSync, deflateRawSync, deflateSync, gzipSync,
} from 'node:zlib'

import {exchange, TransportError} from '../../../src/lib/core/transport.js'
import {rejection} from '../../support/usage.js'

interface Seen {
  body: string
  headers: IncomingMessage['headers']
  method?: string
  url?: string
}

/** An HTTP server on a free loopback port, answering with `handler`; what each request carried is in `seen`. */
async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: Seen[] = []
  const server = createHttpServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', c => {
      body += c
    })
    req.on('end', () => {
      seen.push({
        body, headers: req.headers, method: req.method, url: req.url,
      })
      handler(req, res)
    })
  })
  await new Promise<void>(resolve => {
    server.listen(0, '127.0.0.1', resolve)
  })
  const {port} = server.address() as {port: number}
  return {
    async close() {
      server.closeAllConnections()
      await new Promise(resolve => {
        server.close(resolve)
      })
    },
    seen,
    url: new URL(`http://127.0.0.1:${port}/v1/webhooks?limit=2`),
  }
}

/** A raw TCP server: `onSocket` writes whatever bytes it likes (a hostile or broken HTTP server). */
async function rawServer(onSocket: (socket: Socket) => void) {
  const sockets = new Set<Socket>()
  const server = createNetServer(socket => {
    sockets.add(socket)
    socket.on('error', () => {}) // the client hangs up on these servers on purpose: a write after that fails here
    socket.once('data', () => onSocket(socket))
  })
  await new Promise<void>(resolve => {
    server.listen(0, '127.0.0.1', resolve)
  })
  const {port} = server.address() as {port: number}
  return {
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => {
        server.close(resolve)
      })
    },
    url: new URL(`http://127.0.0.1:${port}/v1/x`),
  }
}

const get = {headers: {accept: 'application/json'}, method: 'GET', timeoutMs: 2000}

describe('transport (lib/core/transport)', () => {
  const closers: Array<() => Promise<unknown>> = []

  afterEach(async () => {
    await Promise.all(closers.splice(0).map(c => c()))
  })

  async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
    const s = await httpServer(handler)
    closers.push(s.close)
    return s
  }

  async function serveRaw(onSocket: (socket: Socket) => void) {
    const s = await rawServer(onSocket)
    closers.push(s.close)
    return s
  }

  it('sends the method, path with query, headers and a text body with its length in bytes', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(201, {'content-type': 'application/json', 'x-ratelimit-remaining': '7'})
      res.end('{"data":{"id":1}}')
    })
    const body = JSON.stringify({name: 'Zürich ✓'})
    const a = await exchange(s.url, {
      body, headers: {'content-type': 'application/json', 'user-agent': 'pdhooks/1.0.0', 'x-api-token': 'tok'}, method: 'POST', timeoutMs: 2000,
    })
    expect(a).to.deep.include({body: '{"data":{"id":1}}', statusCode: 201})
    expect(a.headers['x-ratelimit-remaining']).to.equal('7')
    expect(s.seen).to.have.length(1)
    expect(s.seen[0]).to.deep.include({body, method: 'POST', url: '/v1/webhooks?limit=2'})
    expect(s.seen[0].headers).to.deep.include({
      'accept-encoding': 'gzip, deflate, br',
      'content-length': String(Buffer.byteLength(body)),
      'content-type': 'application/json',
      'user-agent': 'pdhooks/1.0.0',
      'x-api-token': 'tok',
    })
  })

  it('sends no body and no content-length on a GET', async () => {
    const s = await serve((_req, res) => res.end('[]'))
    await exchange(s.url, get)
    expect(s.seen[0].body).to.equal('')
    expect(s.seen[0].headers).to.not.have.property('content-length')
  })

  for (const [encoding, encode] of [
    ['gzip', gzipSync], ['x-gzip', gzipSync], ['deflate', deflateSync], ['deflate', deflateRawSync], ['br', brotliCompressSync],
  ] as const) {
    it(`decodes a ${encoding} answer${encode === deflateRawSync ? ' sent without its zlib header' : ''}`, async () => {
      const text = JSON.stringify({data: Array.from({length: 200}, (_, i) => ({id: i, name: `hook ${i} – ✓`}))})
      const s = await serve((_req, res) => {
        res.writeHead(200, {'content-encoding': encoding, 'content-type': 'application/json'})
        res.end(encode(Buffer.from(text)))
      })
      expect((await exchange(s.url, get)).body).to.equal(text)
    })
  }

  it('leaves an answer in an encoding it does not know as it came', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, {'content-encoding': 'zstd-of-the-future'})
      res.end('opaque')
    })
    expect((await exchange(s.url, get)).body).to.equal('opaque')
  })

  it('a body that claims gzip but is not: ERR_BAD_ENCODING (the answer came, so it is not a safe resend)', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, {'content-encoding': 'gzip'})
      res.end('this is not gzip')
    })
    const e = await rejection(exchange(s.url, get), TransportError)
    expect(e.code).to.equal('ERR_BAD_ENCODING')
    expect(e.message).to.match(/gzip body could not be decoded/)
  })

  it('does not follow a redirect: the 3xx is the answer', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(302, {location: 'https://elsewhere.example.test/v1/webhooks'})
      res.end()
    })
    const a = await exchange(s.url, get)
    expect(a.statusCode).to.equal(302)
    expect(a.headers.location).to.equal('https://elsewhere.example.test/v1/webhooks')
    expect(s.seen).to.have.length(1)
  })

  it('an error status is an answer, with its body', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(503, {'retry-after': '2'})
      res.end('{"error":"down"}')
    })
    expect(await exchange(s.url, get)).to.deep.include({body: '{"error":"down"}', statusCode: 503})
  })

  it('a server that never answers: ETIMEDOUT at the deadline, named TimeoutError', async () => {
    const s = await serve(() => {}) // reads the request, never answers
    const started = Date.now()
    const e = await rejection(exchange(s.url, {...get, timeoutMs: 150}), TransportError)
    expect(e.code).to.equal('ETIMEDOUT')
    expect(e.name).to.equal('TimeoutError')
    expect(Date.now() - started).to.be.within(140, 1500)
  })

  it('the deadline covers the whole exchange: an answer that trickles in forever still times out', async () => {
    const s = await serveRaw(socket => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n')
      const drip = setInterval(() => socket.writable && socket.write('1\r\n \r\n'), 20)
      socket.on('close', () => clearInterval(drip))
    })
    const e = await rejection(exchange(s.url, {...get, timeoutMs: 200}), TransportError)
    expect(e.code).to.equal('ETIMEDOUT')
  })

  it('a connection closed in the middle of the body: ECONNRESET, never a truncated answer', async () => {
    const s = await serveRaw(socket => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"data":[1,2')
      setTimeout(() => socket.destroy(), 20)
    })
    const e = await rejection(exchange(s.url, get), TransportError)
    expect(e.code).to.equal('ECONNRESET')
  })

  it('a connection closed before any answer: ECONNRESET (the request may have been applied)', async () => {
    const s = await serveRaw(socket => socket.destroy())
    expect((await rejection(exchange(s.url, {...get, body: '{}', method: 'POST'}), TransportError)).code).to.equal('ECONNRESET')
  })

  it('an answer that is not HTTP: a parse error code, not a success', async () => {
    const s = await serveRaw(socket => socket.end('SSH-2.0-OpenSSH_9.6\r\n'))
    const e = await rejection(exchange(s.url, get), TransportError)
    expect(e.code).to.match(/^HPE_|ECONNRESET/)
  })

  it('nothing listening: ECONNREFUSED (safe to send again: nothing was sent)', async () => {
    const s = await serve(() => {})
    const {url} = s
    await s.close()
    closers.length = 0
    expect((await rejection(exchange(url, get), TransportError)).code).to.equal('ECONNREFUSED')
  })

  it('settles once, and leaves no timer behind (the process can exit at once)', async () => {
    const s = await serve((_req, res) => res.end('ok'))
    // eslint-disable-next-line n/no-unsupported-features/node-builtins -- in Node 20 too (experimental there)
    const before = process.getActiveResourcesInfo().filter(r => r === 'Timeout').length
    await exchange(s.url, {...get, timeoutMs: 60_000})
    // eslint-disable-next-line n/no-unsupported-features/node-builtins -- as above
    expect(process.getActiveResourcesInfo().filter(r => r === 'Timeout').length).to.equal(before)
  })
})
