import {expect} from 'chai'
import {once} from 'node:events'
import {mkdtempSync, readFileSync} from 'node:fs'
import http from 'node:http'
import net, {type AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import {startListener} from '../../../src/lib/deliveries/listener.js'
import {basicAuthHeader} from '../../../src/lib/deliveries/signatures.js'

// A sanity check of the receiver's cost, not the benchmark (`npm run bench` drives the real command with wrk, and
// checks the listener's memory stays flat there, in a process of its own). The load comes from raw keep-alive sockets,
// so that neither an HTTP client library nor nock (loaded by the test setup) sits in the measurement.

function payload(padBytes: number): string {
  return JSON.stringify({
    data: {
      id: 42, notes: 'n'.repeat(padBytes), owner_id: 7, title: 'Throughput deal', value: 1000,
    },
    meta: {
      action: 'change',
      attempt: 1,
      company_id: '1',
      entity: 'deal',
      entity_id: '42',
      id: '7a3c9f0e-2f4b-4d7e-9b1a-0c2d3e4f5a6b',
      timestamp: '2025-01-01T00:00:00.000Z',
      version: '2.0',
      webhook_id: '8',
    },
    previous: {title: 'Old'},
  })
}

/** Sends `total` copies of one request over `connections` keep-alive sockets, one at a time each; returns ms. */
async function drive(port: number, request: Buffer, total: number, connections: number): Promise<{ms: number; statuses: Record<string, number>}> {
  const statuses: Record<string, number> = {}
  let remaining = total
  const worker = async (): Promise<void> => {
    const socket = net.connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    await once(socket, 'connect')
    let buffered: Buffer = Buffer.alloc(0)
    let waiting: (() => void) | null = null
    socket.on('data', (d: Buffer) => {
      buffered = buffered.length === 0 ? d : Buffer.concat([buffered, d])
      waiting?.()
    })
    const readResponse = async (): Promise<string> => {
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n')
        if (end !== -1) {
          const head = buffered.subarray(0, end).toString('latin1')
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
          if (buffered.length >= end + 4 + length) {
            buffered = buffered.subarray(end + 4 + length)
            return head.slice(9, 12)
          }
        }

        await new Promise<void>(resolve => {
          waiting = resolve
        })
        waiting = null
      }
    }

    while (remaining > 0) {
      remaining--
      socket.write(request)
      const status = await readResponse()
      statuses[status] = (statuses[status] ?? 0) + 1
    }

    socket.destroy()
  }

  const start = performance.now()
  await Promise.all(Array.from({length: connections}, () => worker()))
  return {ms: performance.now() - start, statuses}
}

function rawRequest(port: number, body: string, headers: Record<string, string> = {}): Buffer {
  const lines = ['POST / HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`]
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body)
}

async function bareServer(): Promise<{close: () => Promise<void>; port: number}> {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, {'content-length': '11', 'content-type': 'application/json'})
      res.end('{"ok":true}')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    async close() {
      server.closeAllConnections()
      await new Promise(r => {
        server.close(r)
      })
    },
    port: (server.address() as AddressInfo).port,
  }
}

describe('listener throughput (sanity)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdhooks-throughput-'))
  const auth = {Authorization: basicAuthHeader('hooks', 'correct-horse-battery-staple')}

  it('keeps up with a bare node:http server while journaling 2,000 deliveries', async () => {
    const total = 2000
    const connections = 16
    const body = payload(600)
    const bare = await bareServer()
    const file = join(dir, 'rate.ndjson')
    const listener = await startListener({basicAuth: {password: 'correct-horse-battery-staple', user: 'hooks'}, journal: file, port: 0})
    let events = 0
    listener.on('event', () => events++)
    try {
      // warm both up, then alternate measurements and keep each one's best
      await drive(bare.port, rawRequest(bare.port, body, auth), 300, connections)
      await drive(listener.port, rawRequest(listener.port, body, auth), 300, connections)
      let bareBest = Number.POSITIVE_INFINITY
      let listenBest = Number.POSITIVE_INFINITY
      for (let round = 0; round < 2; round++) {
        const b = await drive(bare.port, rawRequest(bare.port, body, auth), total, connections)
        const l = await drive(listener.port, rawRequest(listener.port, body, auth), total, connections)
        expect(l.statuses).to.deep.equal({200: total})
        bareBest = Math.min(bareBest, b.ms)
        listenBest = Math.min(listenBest, l.ms)
      }

      const ratio = bareBest / listenBest
      const rates = `bare ${Math.round((total / bareBest) * 1000)} req/s, listen ${Math.round((total / listenBest) * 1000)} req/s`
      expect(listenBest, rates).to.be.below(5000)
      // a loose bar for a shared test machine (client and both servers in one process); the bench's bar (wrk) is 50%
      expect(ratio, rates).to.be.above(0.4)
    } finally {
      await listener.close()
      await bare.close()
    }

    expect(events).to.equal(300 + (2 * total))
    const lines = readFileSync(file, 'utf8').split('\n')
    expect(lines).to.have.length(300 + (2 * total) + 1)
    expect(JSON.parse(lines[0]).body).to.equal(body)
  })
})
