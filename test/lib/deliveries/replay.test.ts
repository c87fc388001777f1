import {expect} from 'chai'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {readJournal} from '../../../src/lib/deliveries/journal.js'
import {type ListenerEvent, startListener} from '../../../src/lib/deliveries/listener.js'
import {
  authHint, replayHeaders, replayJournal, type ReplayResult,
} from '../../../src/lib/deliveries/replay.js'
import {
  basicAuthHeader, signElements, signPipeliner, verifyElements, verifyPipeliner,
} from '../../../src/lib/deliveries/signatures.js'
import {post, receiver} from '../../support/receiver.js'

const USER = 'hooks'
const PASSWORD = 'correct-horse-battery-staple'
const OLD_CE_KEY = 'old-ce-key-0123456789'
const CE_KEY = 'new-ce-key-9876543210'
const PL_KEY = '0b9e8f3c-6c1e-4a77-9a55-2f7f5a1c9d10'

const dir = mkdtempSync(join(tmpdir(), 'pdhooks-replay-'))
let n = 0
const tmpFile = (): string => join(dir, `journal-${++n}.ndjson`)

// the deliveries journaled by a real listener
const V1 = '{"v":1,"event":"updated.deal","retry":0,"meta":{"v":1,"action":"updated","object":"deal","id":7},"current":{"id":7,"title":"  spaced\\u00e9 ✓ "}}'
const CE = '{ "message" : { "eventId":"e", "events":[{"eventType":"CREATED","objectId":"1","objectType":"contacts"}] } }\n'
const PL = '[{"event":"Account.Update","entity":{"id":"a-1"},"webhook":{"id":"w"}}]'
const LATIN1 = Buffer.concat([Buffer.from('{"meta":{"version":"2.0","action":"create","entity":"person","entity_id":"3"},"data":{"name":"Ren'), Buffer.from([0xE9]), Buffer.from('"}}')])
const SENT: Array<{body: Buffer; source: string}> = [
  {body: Buffer.from(V1), source: 'pipedrive-v1'},
  {body: Buffer.from(CE), source: 'elements'},
  {body: Buffer.from(PL), source: 'pipeliner'},
  {body: LATIN1, source: 'pipedrive-v2'},
]

/** Runs a listener with journaling and every check on, sends the four deliveries, returns the journal file and events. */
async function recordJournal(): Promise<{events: ListenerEvent[]; file: string}> {
  const file = tmpFile()
  const listener = await startListener({
    basicAuth: {password: PASSWORD, user: USER},
    elementsKey: OLD_CE_KEY,
    journal: file,
    pipelinerKey: PL_KEY,
    port: 0,
  })
  const events: ListenerEvent[] = []
  listener.on('event', e => events.push(e))
  const auth = {authorization: basicAuthHeader(USER, PASSWORD)}
  try {
    expect(await post(listener.url, V1, {...auth, 'x-trace': 'one'})).to.equal(200)
    expect(await post(listener.url, CE, {'content-type': 'application/json; charset=UTF-8', 'elements-webhook-id': 'hook-1', 'elements-webhook-signature': signElements(OLD_CE_KEY, CE)})).to.equal(200)
    expect(await post(listener.url, PL, {'content-type': 'application/json', 'webhook-signature': signPipeliner(PL_KEY, PL, 'base64')})).to.equal(200)
    expect(await post(listener.url, LATIN1, {...auth, 'content-type': 'application/json; charset=ISO-8859-1'})).to.equal(200)
  } finally {
    await listener.close()
  }

  expect(events).to.have.length(4)
  return {events, file}
}

describe('replayJournal', () => {
  it('re-sends every delivery byte for byte with its content-type and headers, without the redacted auth', async () => {
    const {events, file} = await recordJournal()
    const target = await receiver({path: '/replayed', status: 204})
    const progress: ReplayResult[] = []
    try {
      const results = await replayJournal({journal: file, onResult: r => progress.push(r), to: target.url})
      expect(results).to.deep.equal(progress)
      expect(results.map(r => [r.id, r.source, r.status, r.error])).to.deep.equal(events.map(e => [e.id, e.source, 204, undefined]))
      expect(results.every(r => typeof r.ms === 'number')).to.equal(true)
    } finally {
      await target.close()
    }

    expect(target.received).to.have.length(4)
    for (const [i, got] of target.received.entries()) {
      expect(got.body.equals(SENT[i].body), `body ${i}`).to.equal(true)
      expect(got.method).to.equal('POST')
      expect(got.path).to.equal('/replayed')
      expect(got.headers['x-pdhooks-replay-of']).to.equal(events[i].id)
      // the journal holds "Basic ****": it must not be sent
      expect(got.headers.authorization).to.equal(undefined)
      expect(got.headers['content-length']).to.equal(String(SENT[i].body.length))
    }

    expect(target.received[0].headers['x-trace']).to.equal('one')
    expect(target.received[1].headers['content-type']).to.equal('application/json; charset=UTF-8')
    expect(target.received[1].headers['elements-webhook-id']).to.equal('hook-1')
    // without keys, the journaled signatures are sent as they were (still valid: the body is identical)
    expect(target.received[1].headers['elements-webhook-signature']).to.equal(signElements(OLD_CE_KEY, CE))
    expect(target.received[2].headers['webhook-signature']).to.equal(signPipeliner(PL_KEY, PL, 'base64'))
    expect(target.received[3].headers['content-type']).to.equal('application/json; charset=ISO-8859-1')
  })

  it('adds fresh auth: basic auth, a new Elements signature and a hex Pipeliner signature', async () => {
    const {file} = await recordJournal()
    const target = await receiver({path: '/replayed', status: 200})
    try {
      await replayJournal({
        basicAuth: {password: 'new-password', user: 'new-user'}, elementsKey: CE_KEY, journal: file, pipelinerKey: PL_KEY, to: target.url,
      })
    } finally {
      await target.close()
    }

    const [v1, ce, pl, v2] = target.received
    for (const got of target.received) expect(got.headers.authorization).to.equal(basicAuthHeader('new-user', 'new-password'))
    expect(ce.headers['elements-webhook-signature']).to.equal(signElements(CE_KEY, CE))
    expect(verifyElements(CE_KEY, ce.body, ce.headers['elements-webhook-signature'] as string)).to.equal(true)
    expect(pl.headers['webhook-signature']).to.equal(signPipeliner(PL_KEY, PL, 'hex'))
    expect(verifyPipeliner(PL_KEY, pl.body, pl.headers['webhook-signature'] as string)).to.equal(true)
    // signatures only go to their own source
    for (const got of [v1, pl, v2]) expect(got.headers['elements-webhook-signature']).to.equal(undefined)
    for (const got of [v1, ce, v2]) expect(got.headers['webhook-signature']).to.equal(undefined)
  })

  it('replays into a listener that checks everything, and every delivery verifies', async () => {
    const {events: original, file} = await recordJournal()
    const journal2 = tmpFile()
    const rx = await startListener({
      basicAuth: {password: 'p2-password', user: 'u2'},
      elementsKey: CE_KEY,
      journal: journal2,
      pipelinerKey: PL_KEY,
      port: 0,
    })
    const events: ListenerEvent[] = []
    const rejected: unknown[] = []
    rx.on('event', e => events.push(e))
    rx.on('rejected', r => rejected.push(r))
    try {
      const results = await replayJournal({
        basicAuth: {password: 'p2-password', user: 'u2'}, elementsKey: CE_KEY, journal: file, pipelinerKey: PL_KEY, to: rx.url,
      })
      expect(results.map(r => r.status)).to.deep.equal([200, 200, 200, 200])
    } finally {
      await rx.close()
    }

    expect(rejected).to.deep.equal([])
    expect(events.map(e => [e.source, e.action, e.object, e.objectId, e.verified])).to.deep.equal(original.map(e => [e.source, e.action, e.object, e.objectId, true]))
    // the second journal holds the same bodies as the first
    const a = await readJournal(file)
    const b = await readJournal(journal2)
    expect(b.entries.map(e => e.body ?? e.bodyBase64)).to.deep.equal(a.entries.map(e => e.body ?? e.bodyBase64))
  })

  it('replays only the delivery with --id, and an unknown id is not found (exit 4)', async () => {
    const {events, file} = await recordJournal()
    const target = await receiver({path: '/replayed', status: 200})
    try {
      const results = await replayJournal({id: events[2].id, journal: file, to: target.url})
      expect(results.map(r => r.id)).to.deep.equal([events[2].id])
      expect(target.received).to.have.length(1)
      expect(target.received[0].body.toString()).to.equal(PL)
      let error: any
      try {
        await replayJournal({id: 'no-such-id', journal: file, to: target.url})
      } catch (error_) {
        error = error_
      }

      expect(error?.exit).to.equal(4)
      expect(error?.message).to.include('no-such-id')
      expect(target.received).to.have.length(1)
    } finally {
      await target.close()
    }
  })

  it('reports a target that is down per delivery, without throwing and without secrets', async () => {
    const {file} = await recordJournal()
    const dead = await receiver({path: '/replayed', status: 204})
    await dead.close()
    const results = await replayJournal({
      basicAuth: {password: PASSWORD, user: USER}, journal: file, timeoutMs: 2000, to: dead.url,
    })
    expect(results).to.have.length(4)
    for (const r of results) {
      expect(r.status).to.equal(null)
      expect(r.error).to.match(/ECONNREFUSED/)
    }

    expect(JSON.stringify(results)).to.not.include(PASSWORD)
  })

  it('skips malformed journal lines, reporting their line numbers', async () => {
    const {file} = await recordJournal()
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    const broken = tmpFile()
    writeFileSync(broken, [lines[0], '{"broken', lines[1]].join('\n') + '\n')
    const target = await receiver({path: '/replayed', status: 200})
    const problems: unknown[] = []
    try {
      const results = await replayJournal({journal: broken, onMalformed: p => problems.push(p), to: target.url})
      expect(results).to.have.length(2)
    } finally {
      await target.close()
    }

    expect(problems).to.deep.equal([{line: 2, message: 'not valid JSON'}])
    expect(target.received.map(g => g.body.toString())).to.deep.equal([V1, CE])
  })

  it('rejects a target that is not an http(s) URL and a missing journal (exit 2)', async () => {
    for (const opts of [
      {journal: tmpFile(), to: 'not a url'},
      {journal: tmpFile(), to: 'file:///etc/passwd'},
      {journal: join(dir, 'missing.ndjson'), to: 'http://127.0.0.1:9/'},
    ]) {
      let error: any
      try {
        await replayJournal(opts)
      } catch (error_) {
        error = error_
      }

      expect(error?.exit, opts.to).to.equal(2)
    }
  })

  it('refuses a journal with no valid line (exit 2), empty or all malformed', async () => {
    const empty = tmpFile()
    writeFileSync(empty, '\n')
    const garbage = tmpFile()
    writeFileSync(garbage, '{"broken\n[1,2]\n')
    for (const [journal, why] of [[empty, 'it is empty'], [garbage, '2 malformed lines skipped']]) {
      let error: any
      try {
        await replayJournal({journal, to: 'http://127.0.0.1:9/'})
      } catch (error_) {
        error = error_
      }

      expect(error?.exit).to.equal(2)
      expect(error?.code).to.equal('empty_journal')
      expect(error?.message).to.equal(`Journal ${journal} has no valid delivery line (${why}).`)
    }
  })

  it('names the flag that authenticates the refused deliveries', () => {
    expect(authHint([], {})).to.equal(undefined)
    expect(authHint([{source: 'pipedrive-v2'}], {})).to.equal('The receiver refused their authentication, and the journal keeps none: pass --basic-auth user:password.')
    expect(authHint([{source: 'elements'}, {source: 'pipeliner'}], {})).to.contain('pass --elements-key KEY or --pipeliner-key UUID')
    expect(authHint([{source: 'pipedrive-v1'}], {'--basic-auth': true})).to.equal('The receiver refused their authentication: check --basic-auth.')
  })

  it('does not re-send headers the journal holds redacted (--redact-header)', () => {
    const headers = replayHeaders({
      body: '{}', headers: {'x-hub-secret': '****', 'x-keep': 'me', 'x-sig': ['****']}, id: 'r', method: 'POST', path: '/', source: 'unknown', time: 't',
    })
    expect(headers).to.deep.equal({'content-type': 'application/json', 'x-keep': 'me', 'x-pdhooks-replay-of': 'r'})
  })

  it('builds replay headers from a journal entry', () => {
    const headers = replayHeaders({
      body: '{}',
      headers: {
        authorization: 'Basic ****',
        connection: 'keep-alive',
        'content-length': '2',
        cookie: '****',
        host: 'old-host:4000',
        'transfer-encoding': 'chunked',
        'webhook-signature': 'old',
        'x-api-token': '****',
        'x-keep': 'me',
      },
      id: 'abc',
      method: 'POST',
      path: '/',
      source: 'pipeliner',
      time: 't',
    }, {pipelinerKey: PL_KEY})
    expect(headers).to.deep.equal({
      'content-type': 'application/json',
      'webhook-signature': signPipeliner(PL_KEY, '{}', 'hex'),
      'x-keep': 'me',
      'x-pdhooks-replay-of': 'abc',
    })
  })
})
