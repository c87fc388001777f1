import {expect} from 'chai'
import nock from 'nock'
import {setTimeout as sleep} from 'node:timers/promises'

import {PdhooksError} from '../../../src/lib/core/errors.js'
import {HttpClient, RateGate, waitFromHeaders} from '../../../src/lib/core/http.js'
import {PIPEDRIVE_SERVICE} from '../../../src/lib/pipedrive/client.js'
import {assertNockDone, cleanNock} from '../../support/fakes.js'

const BASE = 'https://api.example.test/v1'
const client = (over: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) =>
  new HttpClient({
    baseUrl: BASE, headers: {'x-api-token': 'secret-token-123456'}, retryBaseMs: 1, service: PIPEDRIVE_SERVICE, userAgent: 'pdhooks/9.9.9', ...over,
  })

async function fails(p: Promise<unknown>): Promise<PdhooksError> {
  try {
    await p
  } catch (error) {
    expect(error).to.be.instanceOf(PdhooksError)
    const e = error as PdhooksError
    expect(JSON.stringify(e)).not.to.contain('secret-token-123456')
    expect(e.line).not.to.contain('secret-token-123456')
    return e
  }

  throw new Error('expected a failure')
}

describe('http client', () => {
  afterEach(() => cleanNock())

  it('sends the User-Agent, auth header and a JSON body', async () => {
    nock('https://api.example.test', {reqheaders: {'content-type': 'application/json', 'user-agent': 'pdhooks/9.9.9', 'x-api-token': 'secret-token-123456'}})
    .post('/v1/webhooks', {a: 1})
    .reply(201, {data: {id: 1}, success: true})
    const res = await client().post<{data: {id: number}}>('/webhooks', {json: {a: 1}})
    expect(res.status).to.equal(201)
    expect(res.body.data.id).to.equal(1)
    assertNockDone()
  })

  it('retries a 429 after Retry-After, then succeeds', async () => {
    nock('https://api.example.test').get('/v1/webhooks').reply(429, {error: 'Request over limit'}, {'Retry-After': '0'})
    nock('https://api.example.test').get('/v1/webhooks').reply(200, {data: []})
    const res = await client().get('/webhooks')
    expect(res.status).to.equal(200)
    assertNockDone()
  })

  it('honours x-ratelimit-reset when waiting after a 429', async () => {
    nock('https://api.example.test').get('/v1/webhooks').reply(429, {}, {'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1'})
    nock('https://api.example.test').get('/v1/webhooks').reply(200, {data: []})
    const t = Date.now()
    await client().get('/webhooks')
    expect(Date.now() - t).to.be.greaterThanOrEqual(950)
  })

  it('gives up after 3 retries of 5xx (exit 6, naming the host)', async () => {
    nock('https://api.example.test').get('/v1/webhooks').times(4).reply(503, 'Service Unavailable', {'content-type': 'text/plain'})
    const e = await fails(client().get('/webhooks'))
    expect(e.exit).to.equal(6)
    expect(e.status).to.equal(503)
    expect(e.line).to.contain('api.example.test').and.contain('after 4 attempts')
    assertNockDone()
  })

  it('does not retry 400/401/404/422 and maps them to exit codes', async () => {
    const cases: Array<[number, unknown, number, RegExp]> = [
      [400, {errors: {subscription_url: ['invalid or non-reachable URL']}, status: 'error', success: false}, 2, /subscription_url: invalid or non-reachable URL/],
      [401, {error: 'unauthorized access', errorCode: 401, success: false}, 3, /rejected the API token \(401 from api\.example\.test\)\. Run "pdhooks auth login"/],
      [403, {message: 'Forbidden', success: false}, 3, /refused access/],
      [404, {errors: {id: ['not found']}, status: 'error', success: false}, 4, /id: not found/],
      [409, {error: 'conflict'}, 5, /conflict/],
      [422, {error: 'Webhooks limit reached'}, 5, /limit reached/],
      [415, {error: 'Unsupported Media Type'}, 2, /expects JSON/],
    ]
    for (const [status, body, exit, re] of cases) {
      nock('https://api.example.test').get('/v1/webhooks').reply(status, body as any)
      const e = await fails(client().get('/webhooks'))
      expect(e.exit, String(status)).to.equal(exit)
      expect(e.status).to.equal(status)
      expect(e.line).to.match(re)
    }

    assertNockDone()
  })

  it('reports an HTML body instead of crashing', async () => {
    nock('https://api.example.test').get('/v1/webhooks').reply(403, '<html><head><title>Access denied | CDN</title></head></html>', {'content-type': 'text/html'})
    const e = await fails(client().get('/webhooks'))
    expect(e.exit).to.equal(3)
    expect(e.line).to.contain('HTML page').and.contain('Access denied | CDN')
  })

  it('reports a malformed JSON success body', async () => {
    nock('https://api.example.test').get('/v1/webhooks').reply(200, '{"data": [', {'content-type': 'application/json'})
    const e = await fails(client().get('/webhooks'))
    expect(e.exit).to.equal(1)
    expect(e.code).to.equal('bad_response')
    expect(e.line).to.contain('non-JSON body')
  })

  it('reports an HTML success page (wrong base URL)', async () => {
    nock('https://api.example.test').get('/v1/webhooks').reply(200, '<!doctype html><title>Login</title>', {'content-type': 'text/html'})
    const e = await fails(client().get('/webhooks'))
    expect(e.line).to.contain('HTML page')
  })

  it('retries connection errors, then exits 6 naming the host', async () => {
    nock('https://api.example.test').get('/v1/webhooks').times(4).replyWithError(Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}))
    const e = await fails(client().get('/webhooks'))
    expect(e.exit).to.equal(6)
    expect(e.line).to.contain('cannot reach api.example.test (ECONNREFUSED) after 4 attempts')
    assertNockDone()
  })

  it('retries a GET after a timeout', async () => {
    nock('https://api.example.test').get('/v1/webhooks').delay(300).reply(200, {data: []})
    nock('https://api.example.test').get('/v1/webhooks').reply(200, {data: [1]})
    const res = await client({timeoutMs: 100}).get<{data: number[]}>('/webhooks')
    expect(res.body.data).to.deep.equal([1])
  })

  it('never resends a POST after a timeout: the error is marked ambiguous', async () => {
    const scope = nock('https://api.example.test').post('/v1/webhooks').delay(300).reply(201, {data: {id: 1}})
    const e = await fails(client({timeoutMs: 100}).post('/webhooks', {json: {}}))
    expect(e.exit).to.equal(6)
    expect(e.code).to.equal('timeout')
    expect(e.details?.ambiguous).to.equal(true)
    expect(scope.isDone()).to.equal(true)
    expect(nock.pendingMocks()).to.deep.equal([])
  })

  it('never resends a POST answered 429/502/503/504: the error is ambiguous, answered, with the wait', async () => {
    for (const status of [429, 502, 503, 504]) {
      const scope = nock('https://api.example.test').post('/v1/webhooks').reply(status, {error: 'busy'}, {'Retry-After': '2'})
      const e = await fails(client().post('/webhooks', {json: {}}))
      expect(scope.isDone(), String(status)).to.equal(true)
      expect(e.exit).to.equal(6)
      expect(e.status).to.equal(status)
      expect(e.details).to.include({ambiguous: true, answered: true, waitMs: 2000})
      expect(e.line).not.to.contain('attempts')
    }

    // an idempotent POST (e.g. a batch delete) is still retried
    nock('https://api.example.test').post('/v1/batch').reply(503, {})
    nock('https://api.example.test').post('/v1/batch').reply(200, {data: []})
    expect((await client().post('/batch', {idempotent: true, json: []})).status).to.equal(200)
    // and a refused connection (nothing was sent) is retried for any POST
    nock('https://api.example.test').post('/v1/webhooks').replyWithError(Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}))
    nock('https://api.example.test').post('/v1/webhooks').reply(201, {data: {id: 2}})
    expect((await client().post('/webhooks', {json: {}})).status).to.equal(201)
    assertNockDone()
  })

  it('stops retrying at a 403 that follows a 429', async () => {
    nock('https://api.example.test').get('/v1/webhooks').reply(429, {}, {'Retry-After': '0'})
    nock('https://api.example.test').get('/v1/webhooks').reply(403, '<html><title>Blocked</title></html>', {'content-type': 'text/html'})
    const e = await fails(client().get('/webhooks'))
    expect(e.exit).to.equal(3)
    expect(e.details?.afterRateLimit).to.equal(true)
    assertNockDone()
  })

  it('logs requests under DEBUG=pdhooks* with secrets redacted', async () => {
    nock('https://api.example.test').get('/v1/webhooks').query({api_token: 'secret-token-123456'}).reply(200, {data: []})
    const lines: string[] = []
    const {write} = process.stderr
    process.env.DEBUG = 'pdhooks*'
    process.stderr.write = ((s: string) => {
      lines.push(String(s))
      return true
    }) as typeof process.stderr.write
    try {
      await client().get('/webhooks', {searchParams: {api_token: 'secret-token-123456'}})
    } finally {
      process.stderr.write = write
      delete process.env.DEBUG
    }

    const log = lines.join('')
    expect(log).to.match(/pdhooks:http GET https:\/\/api\.example\.test\/v1\/webhooks\?api_token=\*\*\*\* .* → 200 \(\d+ ms\)/)
    expect(log).not.to.contain('secret-token-123456')
  })

  it('reads Retry-After and x-ratelimit-reset', () => {
    expect(waitFromHeaders({'retry-after': '2'})).to.equal(2000)
    expect(waitFromHeaders({'x-ratelimit-reset': '1'})).to.equal(1000)
    expect(waitFromHeaders({'retry-after': new Date(Date.now() + 3000).toUTCString()})).to.be.within(1000, 3000)
    expect(waitFromHeaders({})).to.equal(undefined)
  })

  it('paces from the rate-limit headers', async () => {
    const gate = new RateGate()
    await gate.acquire()
    gate.release({'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '0.3'})
    const t = Date.now()
    await gate.acquire()
    expect(Date.now() - t).to.be.greaterThanOrEqual(250)
  })

  it('after a reset lets one request go first and the others wait for its headers (a rolling window frees slots one by one)', async () => {
    const gate = new RateGate()
    await gate.acquire()
    gate.release({'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '0.05'})
    // which of the three waiters wakes first is the timers' business: count how many got through
    let through = 0
    const all = [0, 1, 2].map(() => gate.acquire().then(() => through++))
    const until = async (n: number) => {
      const deadline = Date.now() + 10_000
      while (Date.now() < deadline) {
        if (through >= n) return

        await sleep(5)
      }
    }

    await until(1)
    await sleep(80)
    // the probe's answer has not come: nobody else was let through
    expect(through).to.equal(1)
    gate.release({'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '3'})
    await until(2)
    await sleep(20)
    // one slot was free: one more request goes, the third waits for the window (3 s: margin for a loaded machine)
    expect(through).to.equal(2)
    gate.release({'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '0.05'})
    await Promise.all(all)
    expect(through).to.equal(3)
  })

  it('does not trust a late answer that reports more room than a newer one', async () => {
    const gate = new RateGate()
    await gate.acquire()
    await gate.acquire()
    // the second request was counted later by the service but answered first
    gate.release({'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '0.3'})
    gate.release({'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '0.3'})
    const t = Date.now()
    await gate.acquire()
    expect(Date.now() - t).to.be.greaterThanOrEqual(250)
  })
})
