import {expect} from 'chai'
import {once} from 'node:events'
import {mkdtempSync, readFileSync} from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {NOT_FORWARDED} from '../../../src/lib/deliveries/forwarder.js'
import {
  detectDelivery,
  formatEvent,
  type Listener,
  type ListenerEvent,
  type ListenerOptions,
  type ListenerRejection,
  startListener,
} from '../../../src/lib/deliveries/listener.js'
import {formatRejection} from '../../../src/lib/deliveries/listener.js'
import {basicAuthHeader, signElements, signPipeliner} from '../../../src/lib/deliveries/signatures.js'
import {blackHole, receiver} from '../../support/receiver.js'
import {waitFor} from '../../support/wait.js'

// ---------------------------------------------------------------- samples (shapes of reference/api-notes.md)

const V1 = {
  current: {id: 123, title: 'Big deal'},
  event: 'added.deal',
  matches_filters: {current: [], previous: []},
  meta: {
    action: 'added', company_id: 1, host: 'acme.pipedrive.com', id: 123, object: 'deal', timestamp: 1_700_000_000, user_id: 2, v: 1, webhook_id: '7',
  },
  previous: null,
  retry: 2,
  v: 1,
}

const V2 = {
  data: {id: 456, title: 'Other deal'},
  meta: {
    action: 'change',
    attempt: 1,
    company_id: '1',
    entity: 'deal',
    entity_id: '456',
    id: 'a6f1b3a2-0000-4000-8000-000000000001',
    timestamp: '2025-01-01T00:00:00.000Z',
    version: '2.0',
    webhook_id: '8',
  },
  previous: {title: 'Old'},
}

const CE = {
  message: {
    eventId: 'evt-1',
    events: [
      {
        date: '2016-06-01T04:09:10Z', elementKey: 'pipedrive', eventType: 'CREATED', objectId: '11', objectType: 'contacts',
      },
      {
        date: '2016-06-01T04:09:10Z', elementKey: 'pipedrive', eventType: 'DELETED', objectId: 12, objectType: 'accounts',
      },
    ],
    raw: {},
  },
}

const PIPELINER = [
  {
    entity: {id: 'op-1', name: 'Opp'}, event: 'Opportunity.Update', event_time: '2025-01-01T00:00:00Z', team_space_id: 't', webhook: {id: 'wh-1'},
  },
  {
    entity: {id: 'ac-1'}, event: 'Account.Create', event_time: '2025-01-01T00:00:00Z', team_space_id: 't', webhook: {id: 'wh-1'},
  },
]

const USER = 'hooks'
const PASSWORD = 'correct-horse-battery-staple'
const CE_KEY = 'ce-signature-key-0123456789'
const PL_KEY = '0b9e8f3c-6c1e-4a77-9a55-2f7f5a1c9d10'

// ---------------------------------------------------------------- helpers

interface Reply {
  body: string
  headers: http.IncomingHttpHeaders
  status: number
}

function send(
  url: string,
  opts: {body?: Buffer | string; chunked?: boolean; headers?: Record<string, string>; method?: string} = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {'content-type': 'application/json', ...opts.headers}
    const req = http.request(url, {agent: false, headers, method: opts.method ?? 'POST'}, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({body: Buffer.concat(chunks).toString('utf8'), headers: res.headers, status: res.statusCode ?? 0}))
    })
    req.on('error', reject)
    if (opts.body === undefined) {
      req.end()
      return
    }

    if (opts.chunked) {
      // no content-length: the listener must count as it reads
      const buf = Buffer.from(opts.body)
      const step = 16 * 1024
      for (let i = 0; i < buf.length; i += step) req.write(buf.subarray(i, i + step))
      req.end()
    } else {
      req.end(opts.body)
    }
  })
}

const json = (v: unknown): string => JSON.stringify(v)

interface Harness {
  events: ListenerEvent[]
  listener: Listener
  rejected: ListenerRejection[]
  url: string
}

const open: Listener[] = []

async function listen(opts: ListenerOptions = {}): Promise<Harness> {
  const listener = await startListener({port: 0, ...opts})
  open.push(listener)
  const events: ListenerEvent[] = []
  const rejected: ListenerRejection[] = []
  listener.on('event', e => events.push(e))
  listener.on('rejected', r => rejected.push(r))
  return {
    events, listener, rejected, url: listener.url,
  }
}

/** Closes the listeners a test started, after each test of the calling suite. */
function closeListenersAfterEach(): void {
  // eslint-disable-next-line mocha/no-top-level-hooks -- called inside each describe
  afterEach(async () => {
    await Promise.all(open.splice(0).map(l => l.close()))
  })
}

// ---------------------------------------------------------------- format recognition (pure)

describe('detectDelivery', () => {
  it('recognises Pipedrive v1 by v / meta.v, with attempt = retry + 1', () => {
    const d = detectDelivery(V1)
    expect(d.source).to.equal('pipedrive-v1')
    expect(d.events).to.deep.equal([{
      action: 'added', attempt: 3, eventId: null, object: 'deal', objectId: '123', webhookId: '7',
    }])
  })

  it('recognises Pipedrive v1 by its event field alone', () => {
    const d = detectDelivery({current: {id: 9}, event: 'deleted.person', retry: 0})
    expect(d.source).to.equal('pipedrive-v1')
    expect(d.events[0]).to.include({
      action: 'deleted', attempt: 1, object: 'person', objectId: '9',
    })
  })

  it('recognises Pipedrive v2 from meta.version / meta.entity', () => {
    const d = detectDelivery(V2)
    expect(d.source).to.equal('pipedrive-v2')
    expect(d.events).to.deep.equal([
      {
        action: 'change', attempt: 1, eventId: V2.meta.id, object: 'deal', objectId: '456', webhookId: '8',
      },
    ])
    const noVersion = detectDelivery({
      meta: {
        action: 'delete', attempt: '3', entity: 'person', entity_id: '5',
      },
    })
    expect(noVersion.source).to.equal('pipedrive-v2')
    expect(noVersion.events[0]).to.include({
      action: 'delete', attempt: 3, object: 'person', objectId: '5',
    })
  })

  it('reports each event of a Cloud Elements notification', () => {
    const d = detectDelivery(CE, {'elements-webhook-id': 'hook-9'})
    expect(d.source).to.equal('elements')
    expect(d.events).to.deep.equal([
      {
        action: 'created', attempt: null, eventId: 'evt-1', object: 'contacts', objectId: '11', webhookId: 'hook-9',
      },
      {
        action: 'deleted', attempt: null, eventId: 'evt-1', object: 'accounts', objectId: '12', webhookId: 'hook-9',
      },
    ])
  })

  it('reports each item of a Pipeliner array', () => {
    const d = detectDelivery(PIPELINER)
    expect(d.source).to.equal('pipeliner')
    expect(d.events.map(e => [e.object, e.action, e.objectId, e.webhookId])).to.deep.equal([
      ['Opportunity', 'Update', 'op-1', 'wh-1'],
      ['Account', 'Create', 'ac-1', 'wh-1'],
    ])
  })

  it('calls anything else unknown, without throwing', () => {
    for (const body of [{hello: 'world'}, [], [1, 2], [{event: 'nope'}], 'text', 42, null, {message: {events: 'x'}}]) {
      const d = detectDelivery(body)
      expect(d.source, JSON.stringify(body)).to.equal('unknown')
      expect(d.events).to.have.length(1)
    }
  })
})

// ---------------------------------------------------------------- receiving without checks

describe('listener without checks', () => {
  closeListenersAfterEach()

  it('accepts every format unverified and reports its events', async () => {
    const h = await listen()
    expect(h.listener.acceptsAll).to.equal(true)
    for (const body of [V1, V2, CE, PIPELINER, {anything: true}]) {
      const r = await send(h.url, {body: json(body)})
      expect(r.status).to.equal(200)
      expect(JSON.parse(r.body)).to.deep.equal({ok: true})
    }

    await waitFor('h.events.length === 7', () => h.events.length === 7)
    expect(h.events.map(e => `${e.source} ${e.action}.${e.object} ${e.objectId}`)).to.deep.equal([
      'pipedrive-v1 added.deal 123',
      'pipedrive-v2 change.deal 456',
      'elements created.contacts 11',
      'elements deleted.accounts 12',
      'pipeliner Update.Opportunity op-1',
      'pipeliner Create.Account ac-1',
      'unknown unknown.unknown null',
    ])
    expect(h.events.every(e => e.verified === null && e.status === 200)).to.equal(true)
    expect(h.events[0].attempt).to.equal(3)
    // the two events of the CE notification share their delivery id
    expect(h.events[2].id).to.equal(h.events[3].id)
    expect([h.events[2].index, h.events[3].index, h.events[3].count]).to.deep.equal([0, 1, 2])
    expect(h.events[0].id).to.not.equal(h.events[1].id)
    expect(Date.parse(h.events[0].time)).to.be.closeTo(Date.now(), 10_000)
    expect(h.rejected).to.deep.equal([])
    expect(h.listener.stats).to.deep.equal({
      accepted: 5, events: 7, rejected: 0, unforwarded: 0,
    })
  })

  it('answers 405 with Allow: POST to other methods', async () => {
    const h = await listen()
    const r = await send(h.url, {method: 'GET'})
    expect(r.status).to.equal(405)
    expect(r.headers.allow).to.equal('POST')
    const put = await send(h.url, {body: json(V1), method: 'PUT'})
    expect(put.status).to.equal(405)
    expect(h.events).to.have.length(0)
    expect(h.rejected.map(x => x.status)).to.deep.equal([405, 405])
  })

  it('accepts only its path (404 elsewhere), ignoring the query string and a trailing slash', async () => {
    const h = await listen({path: '/hooks'})
    expect(h.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/hooks$/)
    expect((await send(h.url.replace('/hooks', '/other'), {body: json(V1)})).status).to.equal(404)
    expect((await send(h.url.replace('/hooks', '/'), {body: json(V1)})).status).to.equal(404)
    expect((await send(h.url + '/?x=1', {body: json(V1)})).status).to.equal(200)
    expect((await send(h.url + '?api_token=abcdef', {body: json(V1)})).status).to.equal(200)
    expect(h.rejected.map(x => x.status)).to.deep.equal([404, 404])
    expect(h.events).to.have.length(2)
  })

  it('answers 400 to malformed JSON and an empty body, reports them and keeps going', async () => {
    const h = await listen()
    const bad = await send(h.url, {body: '{"v":1,'})
    expect(bad.status).to.equal(400)
    expect(JSON.parse(bad.body).error.message).to.match(/malformed JSON/)
    const empty = await send(h.url, {body: ''})
    expect(empty.status).to.equal(400)
    expect(h.rejected.map(x => [x.status, x.reason.split(' ')[0]])).to.deep.equal([
      [400, 'malformed'],
      [400, 'empty'],
    ])
    expect((await send(h.url, {body: json(V2)})).status).to.equal(200)
    expect(h.events).to.have.length(1)
  })

  it('answers 413 to a body over the limit, by content-length or while reading, and keeps serving', async () => {
    const h = await listen({maxBodyBytes: 64 * 1024})
    const big = json({...V2, pad: 'x'.repeat(200 * 1024)})
    const declared = await send(h.url, {body: big})
    expect(declared.status).to.equal(413)
    const streamed = await send(h.url, {body: big, chunked: true})
    expect(streamed.status).to.equal(413)
    expect(h.rejected.map(x => x.status)).to.deep.equal([413, 413])
    // exactly at the limit is fine
    const fits = json({...V2, pad: ''})
    const exact = json({...V2, pad: 'y'.repeat((64 * 1024) - Buffer.byteLength(fits))})
    expect(Buffer.byteLength(exact)).to.equal(64 * 1024)
    expect((await send(h.url, {body: exact})).status).to.equal(200)
    expect(h.events).to.have.length(1)
  })

  it('keeps connections alive between deliveries', async () => {
    // a raw socket, so that no HTTP client library (or nock) decides about the connection
    const h = await listen()
    const {port} = h.listener
    const socket = net.connect(port, '127.0.0.1')
    await once(socket, 'connect')
    const body = json(V1)
    const request = `POST / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => {
      received += d
    })
    for (let i = 1; i <= 3; i++) {
      socket.write(request)
      await waitFor('received.split(\'{"ok":true}\').length > i', () => received.split('{"ok":true}').length > i)
    }

    socket.destroy()
    expect(received.match(/HTTP\/1\.1 200 OK\r\n/g)).to.have.length(3)
    expect(received.match(/\r\nConnection: keep-alive\r\n/gi)).to.have.length(3)
    expect(h.events).to.have.length(3)
  })
})

// ---------------------------------------------------------------- checks

describe('listener checks', () => {
  closeListenersAfterEach()

  const all: ListenerOptions = {basicAuth: {password: PASSWORD, user: USER}, elementsKey: CE_KEY, pipelinerKey: PL_KEY}

  it('checks Pipedrive v1 and v2 with basic auth', async () => {
    const h = await listen(all)
    expect(h.listener.acceptsAll).to.equal(false)
    const good = {authorization: basicAuthHeader(USER, PASSWORD)}
    expect((await send(h.url, {body: json(V1), headers: good})).status).to.equal(200)
    expect((await send(h.url, {body: json(V2), headers: good})).status).to.equal(200)
    const wrong = await send(h.url, {body: json(V2), headers: {authorization: basicAuthHeader(USER, PASSWORD + 'x')}})
    expect(wrong.status).to.equal(401)
    expect(wrong.headers['www-authenticate']).to.match(/^Basic/)
    const wrongUser = await send(h.url, {body: json(V1), headers: {authorization: basicAuthHeader('other', PASSWORD)}})
    expect(wrongUser.status).to.equal(401)
    const missing = await send(h.url, {body: json(V1)})
    expect(missing.status).to.equal(401)
    expect(h.events.map(e => [e.source, e.verified])).to.deep.equal([
      ['pipedrive-v1', true],
      ['pipedrive-v2', true],
    ])
    expect(h.rejected.map(r => [r.status, r.source, r.reason])).to.deep.equal([
      [401, 'pipedrive-v2', 'basic auth credentials do not match'],
      [401, 'pipedrive-v1', 'basic auth credentials do not match'],
      [401, 'pipedrive-v1', 'missing basic auth credentials'],
    ])
  })

  it('checks Cloud Elements notifications with Elements-Webhook-Signature', async () => {
    const h = await listen(all)
    const body = json(CE)
    expect((await send(h.url, {body, headers: {'elements-webhook-signature': signElements(CE_KEY, body)}})).status).to.equal(200)
    const other = await send(h.url, {body, headers: {'elements-webhook-signature': signElements('another-key', body)}})
    expect(other.status).to.equal(401)
    const tampered = await send(h.url, {
      body: body.replace('"11"', '"13"'),
      headers: {'elements-webhook-signature': signElements(CE_KEY, body)},
    })
    expect(tampered.status).to.equal(401)
    expect((await send(h.url, {body})).status).to.equal(401)
    expect(h.events.map(e => [e.source, e.verified, e.objectId])).to.deep.equal([
      ['elements', true, '11'],
      ['elements', true, '12'],
    ])
    expect(h.rejected.map(r => r.reason)).to.deep.equal([
      'Elements-Webhook-Signature does not match the body',
      'Elements-Webhook-Signature does not match the body',
      'missing Elements-Webhook-Signature header',
    ])
  })

  it('checks Pipeliner arrays with WebHook-Signature in hex or base64', async () => {
    const h = await listen(all)
    const body = json(PIPELINER)
    const hex = signPipeliner(PL_KEY, body, 'hex')
    const b64 = signPipeliner(PL_KEY, body, 'base64')
    expect((await send(h.url, {body, headers: {'webhook-signature': hex}})).status).to.equal(200)
    expect((await send(h.url, {body, headers: {'WebHook-Signature': b64}})).status).to.equal(200)
    expect((await send(h.url, {body, headers: {'webhook-signature': hex.toUpperCase()}})).status).to.equal(200)
    const bad = signPipeliner('11111111-2222-4333-8444-555555555555', body, 'hex')
    expect((await send(h.url, {body, headers: {'webhook-signature': bad}})).status).to.equal(401)
    expect((await send(h.url, {body})).status).to.equal(401)
    expect(h.events.filter(e => e.index === 0).map(e => e.verified)).to.deep.equal([true, true, true])
    expect(h.rejected.map(r => [r.status, r.source])).to.deep.equal([
      [401, 'pipeliner'],
      [401, 'pipeliner'],
    ])
  })

  it('refuses a source without a configured check once any check is configured', async () => {
    const h = await listen({basicAuth: {password: PASSWORD, user: USER}})
    const auth = {authorization: basicAuthHeader(USER, PASSWORD)}
    // correct basic auth does not let other sources in
    const ce = json(CE)
    expect((await send(h.url, {body: ce, headers: {...auth, 'elements-webhook-signature': signElements(CE_KEY, ce)}})).status).to.equal(401)
    const pl = json(PIPELINER)
    expect((await send(h.url, {body: pl, headers: {...auth, 'webhook-signature': signPipeliner(PL_KEY, pl)}})).status).to.equal(401)
    expect((await send(h.url, {body: json({anything: 1}), headers: auth})).status).to.equal(401)
    expect((await send(h.url, {body: json(V2), headers: auth})).status).to.equal(200)
    expect(h.rejected.map(r => r.reason)).to.deep.equal([
      'no check configured for elements deliveries (--elements-key)',
      'no check configured for pipeliner deliveries (--pipeliner-key)',
      'unrecognised delivery format, refused because checks are configured',
    ])

    const e = await listen({elementsKey: CE_KEY})
    expect((await send(e.url, {body: json(V1), headers: auth})).status).to.equal(401)
    expect(e.rejected[0].reason).to.equal('no check configured for pipedrive-v1 deliveries (--basic-auth)')
    expect((await send(e.url, {body: ce, headers: {'elements-webhook-signature': signElements(CE_KEY, ce)}})).status).to.equal(200)
  })

  it('never shows a secret in events, rejections or answers', async () => {
    const h = await listen(all)
    const body = json(V1)
    const seen = [
      (await send(h.url, {body, headers: {authorization: basicAuthHeader(USER, 'nope')}})).body,
      (await send(h.url, {body, headers: {authorization: basicAuthHeader(USER, PASSWORD)}})).body,
      (await send(h.url, {body: json(CE), headers: {'elements-webhook-signature': 'sha256=AAAA'}})).body,
      (await send(h.url, {body: json(PIPELINER), headers: {'webhook-signature': 'abc'}})).body,
    ]
    const text = JSON.stringify([h.events, h.rejected, seen, h.listener.checks, h.listener.url])
    for (const secret of [PASSWORD, CE_KEY, PL_KEY, Buffer.from(`${USER}:${PASSWORD}`).toString('base64')]) {
      expect(text).to.not.include(secret)
    }

    expect(h.events).to.have.length(1)
    expect(h.rejected).to.have.length(3)
  })
})

// ---------------------------------------------------------------- forwarding

describe('listener --forward-to', () => {
  closeListenersAfterEach()

  it('relays each accepted delivery byte for byte with its headers and records the status', async () => {
    const target = await receiver({path: '/app/hooks?x=1', status: 202})
    try {
      const h = await listen({basicAuth: {password: PASSWORD, user: USER}, forwardTo: target.url})
      expect(h.listener.forwardTarget).to.equal(target.url)
      const body = Buffer.from(json({...V1, current: {id: 123, title: 'Ünïcødé ✓'}}))
      const auth = basicAuthHeader(USER, PASSWORD)
      const r = await send(h.url, {body, headers: {authorization: auth, 'content-type': 'application/json; charset=utf-8', 'x-custom': 'yes'}})
      expect(r.status).to.equal(200)
      await waitFor('h.events.length === 1', () => h.events.length === 1)
      expect(target.received).to.have.length(1)
      const [got] = target.received
      expect(got.method).to.equal('POST')
      expect(got.path).to.equal('/app/hooks?x=1')
      expect(got.body.equals(body)).to.equal(true)
      expect(got.headers['content-type']).to.equal('application/json; charset=utf-8')
      expect(got.headers['x-custom']).to.equal('yes')
      expect(got.headers.authorization).to.equal(auth)
      expect(got.headers['content-length']).to.equal(String(body.length))
      expect(got.headers.host).to.equal(new URL(target.url).host)
      expect(got.headers['x-pdhooks-delivery-id']).to.equal(h.events[0].id)
      const {forward} = h.events[0]
      expect(forward?.status).to.equal(202)
      expect(forward?.ms).to.be.a('number').and.at.least(0)
      expect(forward?.error).to.equal(undefined)
      expect(formatEvent(h.events[0])).to.include('→ 202')
      // refused deliveries are not relayed
      expect((await send(h.url, {body, headers: {authorization: basicAuthHeader(USER, 'bad')}})).status).to.equal(401)
      expect(target.received).to.have.length(1)
    } finally {
      await target.close()
    }
  })

  it('still answers 200 to the sender when the forward target is down, and reports the error', async () => {
    const dead = await receiver({path: '/app/hooks?x=1', status: 202})
    const deadUrl = dead.url
    await dead.close()
    const h = await listen({forwardTo: deadUrl})
    const r = await send(h.url, {body: json(V2)})
    expect(r.status).to.equal(200)
    await waitFor('h.events.length === 1', () => h.events.length === 1)
    expect(h.events[0].status).to.equal(200)
    expect(h.events[0].forward?.status).to.equal(null)
    expect(h.events[0].forward?.error).to.match(/ECONNREFUSED/)
    expect(formatEvent(h.events[0])).to.include('failed')
  })

  it('answers the sender before a slow forward target answers, and times the relay out', async () => {
    const slow = await receiver({delayMs: 400, path: '/app/hooks?x=1', status: 200})
    try {
      const h = await listen({forwardTo: slow.url})
      const t0 = Date.now()
      expect((await send(h.url, {body: json(V2)})).status).to.equal(200)
      const answered = Date.now() - t0
      expect(answered).to.be.below(300)
      expect(h.events).to.have.length(0)
      await waitFor('h.events.length === 1', () => h.events.length === 1)
      expect(h.events[0].forward?.status).to.equal(200)
      expect(h.events[0].forward?.ms).to.be.at.least(350)

      const h2 = await listen({forwardTimeoutMs: 100, forwardTo: slow.url})
      expect((await send(h2.url, {body: json(V2)})).status).to.equal(200)
      await waitFor('h2.events.length === 1', () => h2.events.length === 1)
      expect(h2.events[0].forward).to.include({status: null})
      expect(h2.events[0].forward?.error).to.match(/no answer within 100 ms/)
    } finally {
      await slow.close()
    }
  })

  it('rejects a forward URL that is not http(s)', async () => {
    let error: any
    try {
      await startListener({forwardTo: 'ftp://example.com', port: 0})
    } catch (error_) {
      error = error_
    }

    expect(error?.exit).to.equal(2)
  })
})

// ---------------------------------------------------------------- max events, start and close

describe('listener lifecycle', () => {
  closeListenersAfterEach()

  it("emits 'done' once after maxEvents accepted deliveries and refuses later ones", async () => {
    const h = await listen({maxEvents: 2})
    let done = 0
    h.listener.on('done', () => done++)
    expect((await send(h.url, {body: '{oops'})).status).to.equal(400) // rejected: does not count
    expect((await send(h.url, {body: json(CE)})).status).to.equal(200) // one delivery, two events
    expect(done).to.equal(0)
    expect((await send(h.url, {body: json(V1)})).status).to.equal(200)
    await waitFor('done === 1', () => done === 1)
    const late = await send(h.url, {body: json(V2)})
    expect(late.status).to.equal(503)
    expect(done).to.equal(1)
    expect(h.events).to.have.length(3)
    expect(h.listener.stats.accepted).to.equal(2)
  })

  it("emits 'done' only after the last delivery's relay has answered", async () => {
    const slow = await receiver({delayMs: 150, path: '/app/hooks?x=1', status: 200})
    try {
      const h = await listen({forwardTo: slow.url, maxEvents: 1})
      const done = once(h.listener, 'done')
      expect((await send(h.url, {body: json(V1)})).status).to.equal(200)
      expect(h.events).to.have.length(0)
      await done
      expect(h.events).to.have.length(1)
      expect(h.events[0].forward?.status).to.equal(200)
    } finally {
      await slow.close()
    }
  })

  it('fails to start on a port in use, naming it', async () => {
    const h = await listen()
    let error: any
    try {
      await startListener({port: h.listener.port})
    } catch (error_) {
      error = error_
    }

    expect(error?.message).to.equal(`Port ${h.listener.port} is already in use on 127.0.0.1.`)
    expect(error?.exit).to.equal(2)
    expect(error?.code).to.equal('port_in_use')
  })

  it('closes promptly with idle keep-alive connections open', async () => {
    const h = await listen()
    const agent = new http.Agent({keepAlive: true})
    await new Promise<void>(resolve => {
      http
      .request(h.url, {agent, method: 'POST'}, res => {
        res.resume()
        res.on('end', resolve)
      })
      .end(json(V1))
    })
    const t0 = Date.now()
    await h.listener.close()
    await h.listener.close()
    expect(Date.now() - t0).to.be.below(1000)
    agent.destroy()
    expect(h.listener.server.listening).to.equal(false)
  })

  it('formats one line per event', () => {
    const line = formatEvent({
      action: 'change',
      attempt: 2,
      count: 1,
      eventId: null,
      id: 'x',
      index: 0,
      object: 'deal',
      objectId: '5',
      source: 'pipedrive-v2',
      status: 200,
      time: '2025-01-01T00:00:00.000Z',
      verified: true,
      webhookId: null,
    })
    expect(line).to.equal('2025-01-01T00:00:00.000Z  pipedrive-v2  change.deal  5  attempt 2  verified')
  })
})

// ---------------------------------------------------------------- nothing acknowledged that is not kept

/** Opens a raw connection, writes `text`, and resolves with everything the server sent until it closed. */
async function rawExchange(port: number, text: string): Promise<{ms: number; reply: string}> {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const t0 = Date.now()
  let reply = ''
  socket.on('data', d => {
    reply += d
  })
  socket.write(text)
  await once(socket, 'close')
  return {ms: Date.now() - t0, reply}
}

describe('listener: nothing acknowledged that is not kept', () => {
  closeListenersAfterEach()
  const dir = mkdtempSync(join(tmpdir(), 'pdhooks-listener-journal-'))

  it('answers 200 only once the delivery is in the journal', async () => {
    const file = join(dir, 'answered.ndjson')
    const h = await listen({journal: file})
    for (let i = 1; i <= 5; i++) {
      expect((await send(h.url, {body: json(V2)})).status).to.equal(200)
      // the moment the sender has its 200, the line is in the file
      expect(readFileSync(file, 'utf8').trim().split('\n')).to.have.length(i)
    }
  })

  it('answers 503 with Retry-After when the journal cannot be written, says so once, and keeps going', async () => {
    const h = await listen({journal: '/dev/full'})
    const errors: Error[] = []
    h.listener.on('error', e => errors.push(e))
    const replies = await Promise.all([1, 2, 3].map(() => send(h.url, {body: json(V2)})))
    expect(replies.map(r => r.status)).to.deep.equal([503, 503, 503])
    expect(replies[0].headers['retry-after']).to.equal('5')
    expect(JSON.parse(replies[0].body).error.message).to.equal('the journal cannot be written (ENOSPC)')
    expect((await send(h.url, {body: json(V1)})).status).to.equal(503)
    expect(errors).to.have.length(1)
    expect(errors[0].message).to.match(/^Cannot write journal \/dev\/full: ENOSPC.*answered 503/)
    expect(h.events).to.deep.equal([])
    expect(h.rejected.map(r => r.code)).to.deep.equal(Array.from({length: 4}, () => 'journal_unwritable'))
    expect(h.listener.stats).to.include({accepted: 0, rejected: 4})
  })

  it('answers 503 once the relay queue is full, and close() reports what was not forwarded', async () => {
    const hole = await blackHole()
    try {
      const h = await listen({closeGraceMs: 200, forwardQueue: 3, forwardTo: hole.url})
      const statuses = []
      for (let i = 0; i < 5; i++) statuses.push((await send(h.url, {body: json(V2)})).status)
      expect(statuses).to.deep.equal([200, 200, 200, 503, 503])
      expect(h.rejected[0]).to.include({code: 'forward_queue_full', status: 503})
      expect(h.rejected[0].reason).to.equal(`the relay queue is full (3 deliveries wait for ${hole.url})`)
      expect(h.listener.unrelayed).to.equal(3)
      const t0 = Date.now()
      const summary = await h.listener.close()
      expect(Date.now() - t0).to.be.below(2000)
      expect(summary).to.deep.equal({unforwarded: 3})
      expect(h.events.map(e => e.forward?.error)).to.deep.equal([NOT_FORWARDED, NOT_FORWARDED, NOT_FORWARDED])
      expect(formatEvent(h.events[0])).to.include(`→ ${NOT_FORWARDED}`)
    } finally {
      await hole.close()
    }
  })

  it('relays with a hard deadline per delivery, and frees the queue for new deliveries', async () => {
    const hole = await blackHole()
    try {
      const h = await listen({forwardQueue: 1, forwardTimeoutMs: 150, forwardTo: hole.url})
      expect((await send(h.url, {body: json(V2)})).status).to.equal(200)
      expect((await send(h.url, {body: json(V2)})).status).to.equal(503)
      await waitFor('h.events.length === 1', () => h.events.length === 1)
      expect(h.events[0].forward).to.include({status: null})
      expect(h.events[0].forward?.error).to.equal('no answer within 150 ms')
      expect((await send(h.url, {body: json(V2)})).status).to.equal(200)
    } finally {
      await hole.close()
    }
  })

  it('interrupt() ends the grace given to relays at once', async () => {
    const hole = await blackHole()
    try {
      const h = await listen({closeGraceMs: 60_000, forwardTo: hole.url})
      expect((await send(h.url, {body: json(V2)})).status).to.equal(200)
      const closing = h.listener.close()
      setTimeout(() => h.listener.interrupt(), 100)
      const t0 = Date.now()
      expect(await closing).to.deep.equal({unforwarded: 1})
      expect(Date.now() - t0).to.be.below(2000)
    } finally {
      await hole.close()
    }
  })

  it('answers 503 to a delivery still arriving when it stops (the sender retries), and accepts nothing more', async () => {
    const h = await listen()
    const body = json(V2)
    const socket = net.connect(h.listener.port, '127.0.0.1')
    await once(socket, 'connect')
    let reply = ''
    socket.on('data', d => {
      reply += d
    })
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`)
    await waitFor('h.listener.server.listening', () => h.listener.server.listening)
    await new Promise(r => {
      setTimeout(r, 50)
    })
    const closing = h.listener.close()
    socket.write(body.slice(10))
    await once(socket, 'close')
    await closing
    expect(reply).to.match(/^HTTP\/1\.1 503 /)
    expect(reply.toLowerCase()).to.contain('retry-after: 5')
    expect(h.rejected.map(r => r.code)).to.deep.equal(['stopping'])
    expect(h.listener.stats.accepted).to.equal(0)
  })
})

describe('listener: slow and hostile clients', () => {
  closeListenersAfterEach()

  it('answers 408 and closes the connection when the headers do not arrive in time', async () => {
    const h = await listen({headersTimeoutMs: 500, requestTimeoutMs: 1000})
    const {ms, reply} = await rawExchange(h.listener.port, 'POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    expect(reply).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/)
    expect(reply).to.contain('headers not received within 1 s')
    expect(ms).to.be.below(4000)
    expect(h.rejected).to.have.length(1)
    expect(h.rejected[0]).to.include({code: 'timeout', method: '', status: 408})
    expect(formatRejection(h.rejected[0])).to.match(/rejected request from 127\.0\.0\.1: 408 headers not received/)
  })

  it('answers 408 when the body does not arrive in time', async () => {
    const h = await listen({headersTimeoutMs: 500, requestTimeoutMs: 1000})
    const {ms, reply} = await rawExchange(h.listener.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"v":1,')
    expect(reply).to.match(/^HTTP\/1\.1 408 /)
    expect(reply).to.contain('body not received within 1 s')
    expect(ms).to.be.below(4000)
    expect(h.events).to.deep.equal([])
  })

  it('refuses timeouts that cannot work', async () => {
    let error: any
    try {
      await startListener({headersTimeoutMs: 5000, port: 0, requestTimeoutMs: 1000})
    } catch (error_) {
      error = error_
    }

    expect(error?.exit).to.equal(2)
    expect(error?.message).to.contain('--headers-timeout cannot be longer than --request-timeout')
  })

  it('escapes terminal control sequences from the sender and cuts long values in what it prints', async () => {
    const h = await listen()
    const evil = '\u001B]0;pwned\u0007\u001B[2J\u009B31m\u202Edeal'
    const body = json({...V1, meta: {...V1.meta, action: evil, id: 'x'.repeat(5000)}})
    expect((await send(h.url, {body})).status).to.equal(200)
    const line = formatEvent(h.events[0])
    // eslint-disable-next-line no-control-regex
    expect(line).not.to.match(/[\u0000-\u001F\u007F-\u009F\u202E]/)
    expect(line).to.contain(String.raw`\x1b]0;pwned\x07\x1b[2J\x9b31m\u202edeal`)
    expect(line.length).to.be.below(400)
    // a parse error quotes the body: escaped and cut too
    expect((await send(h.url, {body: `{"a":"\u001B[31m${'y'.repeat(3000)}`})).status).to.equal(400)
    const rejection = formatRejection(h.rejected[0])
    // eslint-disable-next-line no-control-regex
    expect(rejection).not.to.match(/[\u0000-\u001F]/)
    expect(rejection.length).to.be.below(300)
    expect((await send(h.url + '?token=abc&' + 'q'.repeat(1000), {body: ''})).status).to.equal(400)
    expect(h.rejected[1].path).to.match(/^\/\?token=\*\*\*\*&q+…$/)
    expect(h.rejected[1].path.length).to.be.below(210)
  })

  it('redacts secret query parameters and --redact-header headers in the journal', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pdhooks-listener-redact-')), 'redact.ndjson')
    const h = await listen({journal: file, redactHeaders: ['X-Hub-Secret']})
    expect((await send(`${h.url}?api_key=k-123&page=2`, {body: json(V2), headers: {'x-hub-secret': 'hub-123'}})).status).to.equal(200)
    const line = JSON.parse(readFileSync(file, 'utf8'))
    expect(line.path).to.equal('/?api_key=****&page=2')
    expect(line.headers['x-hub-secret']).to.equal('****')
    expect(readFileSync(file, 'utf8')).not.to.match(/k-123|hub-123/)
  })
})

// How fast the listener is, against a bare node:http server, is measured by `npm run bench` (wrk, from outside the
// process): here only that many deliveries at once, over kept-alive connections, are each answered and kept. Raw
// sockets: nock (loaded by the test setup) gives each request of an http.Agent a connection of its own.

/** Sends `requests` one after the other over one kept-alive connection; resolves with the statuses answered. */
async function overOneConnection(port: number, requests: string[]): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  let buffered = ''
  let wake: (() => void) | undefined
  socket.setEncoding('latin1')
  socket.on('data', (d: string) => {
    buffered += d
    wake?.()
  })
  const statuses: string[] = []
  try {
    for (const request of requests) {
      socket.write(request)
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n')
        const length = end === -1 ? -1 : Number(/\r\ncontent-length: *(\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0)
        if (end !== -1 && buffered.length >= end + 4 + length) {
          statuses.push(buffered.slice(9, 12))
          buffered = buffered.slice(end + 4 + length)
          break
        }

        await new Promise<void>(resolve => {
          wake = resolve
        })
      }
    }
  } finally {
    socket.destroy()
  }

  return statuses
}

describe('listener: many deliveries at once', () => {
  closeListenersAfterEach()

  it('answers and journals every one of 400 deliveries sent over 16 kept-alive connections', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pdhooks-many-')), 'many.ndjson')
    const h = await listen({basicAuth: {password: PASSWORD, user: USER}, journal: file})
    const request = (i: number): string => {
      const body = json({...V2, data: {...V2.data, id: i}, meta: {...V2.meta, entity_id: String(i), id: `delivery-${i}`}})
      return `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${basicAuthHeader(USER, PASSWORD)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
    }

    const connections = Array.from({length: 16}, (_, c) => Array.from({length: 25}, (_, k) => request((c * 25) + k)))
    const statuses = (await Promise.all(connections.map(requests => overOneConnection(h.listener.port, requests)))).flat()
    expect(statuses).to.deep.equal(Array.from({length: 400}, () => '200'))
    expect(h.events).to.have.length(400)
    const kept = readFileSync(file, 'utf8').trimEnd().split('\n').map(l => JSON.parse(l))
    expect(kept).to.have.length(400)
    expect(new Set(kept.map(k => JSON.parse(k.body).meta.id)).size).to.equal(400)
  })
})
