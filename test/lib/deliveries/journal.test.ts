import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {
  mkdtempSync, readFileSync, statSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {
  entryBody, isRedactedValue, iterateJournal, journalLine, JournalWriter, readJournal, redactQuery, toJournalEntry,
} from '../../../src/lib/deliveries/journal.js'
import {type ListenerEvent, startListener} from '../../../src/lib/deliveries/listener.js'
import {basicAuthHeader, signElements} from '../../../src/lib/deliveries/signatures.js'
import {post} from '../../support/receiver.js'

const USER = 'hooks'
const PASSWORD = 'correct-horse-battery-staple'
const API_TOKEN = 'pd-api-token-0123456789abcdef'
const COOKIE = 'session=abcdefghijklmnopqrstuvwxyz'
const CE_KEY = 'ce-signature-key-0123456789'

const dir = mkdtempSync(join(tmpdir(), 'pdhooks-journal-'))
let n = 0
const tmpFile = (): string => join(dir, `journal-${++n}.ndjson`)

describe('journal: written by the listener', () => {
  it('appends one line per accepted delivery, with headers (auth redacted) and the exact body', async () => {
    const file = tmpFile()
    const listener = await startListener({
      basicAuth: {password: PASSWORD, user: USER}, elementsKey: CE_KEY, journal: file, port: 0,
    })
    const events: ListenerEvent[] = []
    listener.on('event', e => events.push(e))
    const v2 = JSON.stringify({
      data: {id: 1, title: 'Crème brûlée ✓'}, meta: {
        action: 'create', entity: 'deal', entity_id: '1', version: '2.0',
      },
    })
    const ce = '{"message":{"events":[{"eventType":"UPDATED","objectId":"5","objectType":"contacts"}]}}\n'
    try {
      expect(await post(listener.url + '?api_token=' + API_TOKEN, v2, {
        authorization: basicAuthHeader(USER, PASSWORD),
        cookie: COOKIE,
        'x-api-token': API_TOKEN,
        'x-custom': 'kept',
      })).to.equal(200)
      expect(await post(listener.url, ce, {'content-type': 'application/json; charset=utf-8', 'elements-webhook-signature': signElements(CE_KEY, ce)})).to.equal(200)
      // refused and malformed deliveries are not journaled
      expect(await post(listener.url, v2, {authorization: basicAuthHeader(USER, 'wrong')})).to.equal(401)
      expect(await post(listener.url, '{nope', {})).to.equal(400)
    } finally {
      await listener.close()
    }

    const text = readFileSync(file, 'utf8')
    const lines = text.split('\n')
    expect(lines).to.have.length(3)
    expect(lines[2]).to.equal('')
    for (const secret of [PASSWORD, API_TOKEN, COOKIE, Buffer.from(`${USER}:${PASSWORD}`).toString('base64')]) {
      expect(text).to.not.include(secret)
    }

    const {entries, malformed} = await readJournal(file)
    expect(malformed).to.deep.equal([])
    expect(entries.map(e => e.id)).to.deep.equal([events[0].id, events[1].id])
    const [first, second] = entries
    expect(first).to.include({method: 'POST', source: 'pipedrive-v2', time: events[0].time})
    expect(first.path).to.equal('/?api_token=****')
    expect(first.body).to.equal(v2)
    expect(first.bodyBase64).to.equal(undefined)
    expect(first.headers.authorization).to.equal('Basic ****')
    expect(first.headers['x-api-token']).to.not.equal(API_TOKEN)
    expect(first.headers['x-api-token']).to.match(/\*|…/)
    expect(first.headers.cookie).to.not.equal(COOKIE)
    expect(first.headers['x-custom']).to.equal('kept')
    expect(first.headers['content-type']).to.equal('application/json')
    expect(second.source).to.equal('elements')
    expect(second.headers['elements-webhook-signature']).to.equal(signElements(CE_KEY, ce))
    expect(second.headers['content-type']).to.equal('application/json; charset=utf-8')
    expect(entryBody(second).equals(Buffer.from(ce))).to.equal(true)
    expect(entryBody(first).equals(Buffer.from(v2))).to.equal(true)
  })

  it('stores a body that is not valid UTF-8 as base64, byte for byte', async () => {
    const file = tmpFile()
    const listener = await startListener({journal: file, port: 0})
    // Latin-1 "é" (0xE9) inside a JSON string: parses, but is not UTF-8
    const body = Buffer.concat([Buffer.from('{"v":1,"event":"added.person","current":{"name":"Ren'), Buffer.from([0xE9]), Buffer.from('"}}')])
    try {
      expect(await post(listener.url, body)).to.equal(200)
    } finally {
      await listener.close()
    }

    const {entries} = await readJournal(file)
    expect(entries).to.have.length(1)
    expect(entries[0].body).to.equal(undefined)
    expect(entries[0].bodyBase64).to.equal(body.toString('base64'))
    expect(entryBody(entries[0]).equals(body)).to.equal(true)
    expect(entries[0].source).to.equal('pipedrive-v1')
  })

  it('appends to an existing journal, creating new files with mode 0600', async () => {
    const file = tmpFile()
    for (let round = 0; round < 2; round++) {
      const listener = await startListener({journal: file, port: 0})
      await post(listener.url, '{"v":1,"event":"added.deal"}')
      await listener.close()
    }

    expect((await readJournal(file)).entries).to.have.length(2)
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).to.equal(0o600)
  })

  it('refuses to start when the journal cannot be opened, naming the path', async () => {
    const file = join(dir, 'missing-dir', 'journal.ndjson')
    let error: any
    try {
      await startListener({journal: file, port: 0})
    } catch (error_) {
      error = error_
    }

    expect(error?.exit).to.equal(2)
    expect(error?.message).to.include(file)
  })
})

const goodLine = (id: string): string =>
  JSON.stringify({
    body: `{"id":"${id}"}`, headers: {}, id, method: 'POST', path: '/', source: 'pipedrive-v1', time: 't',
  })

describe('journal: reading', () => {
  it('skips malformed lines and reports them with their line numbers', async () => {
    const file = tmpFile()
    writeFileSync(
      file,
      [
        goodLine('a'),
        'this is not json',
        '{"id":"x","body":"{}"', // truncated by a crash
        '{"body":"{}"}', // no id
        '',
        '[1,2]',
        '{"id":"y"}', // no body
        goodLine('b'),
        '{"id":"c","bodyBase64":"/w==","source":"something-else","headers":{}}',
      ].join('\n') + '\n',
    )
    const {entries, malformed} = await readJournal(file)
    expect(entries.map(e => e.id)).to.deep.equal(['a', 'b', 'c'])
    expect(malformed).to.deep.equal([
      {line: 2, message: 'not valid JSON'},
      {line: 3, message: 'not valid JSON'},
      {line: 4, message: 'missing "id"'},
      {line: 6, message: 'not a JSON object'},
      {line: 7, message: 'missing "body"'},
    ])
    // defaults for an entry that lacks optional fields
    expect(entries[2]).to.include({method: 'POST', path: '/', source: 'unknown'})
    expect(entryBody(entries[2]).equals(Buffer.from([0xFF]))).to.equal(true)
  })

  it('streams lines with iterateJournal, handling CRLF line ends', async () => {
    const file = tmpFile()
    writeFileSync(file, '{"id":"1","body":"a"}\r\n{"id":"2","body":"b"}\r\n')
    const seen: unknown[] = []
    for await (const item of iterateJournal(file)) seen.push(item)
    expect(seen).to.have.length(2)
    expect(seen.map((x: any) => [x.line, x.entry.id, x.entry.body])).to.deep.equal([
      [1, '1', 'a'],
      [2, '2', 'b'],
    ])
  })

  it('reports a missing journal as a usage error naming the file', async () => {
    const file = join(dir, 'nope.ndjson')
    let error: any
    try {
      await readJournal(file)
    } catch (error_) {
      error = error_
    }

    expect(error?.exit).to.equal(2)
    expect(error?.message).to.equal(`Cannot read journal ${file}: no such file or directory.`)
  })
})

const entry = (id: string) => toJournalEntry({
  body: Buffer.from('{}'), headers: {}, id, method: 'POST', path: '/', source: 'unknown', time: 't',
})

describe('journal: entries and writer', () => {
  it('redacts every credential header, including repeated ones', () => {
    const entry = toJournalEntry({
      body: Buffer.from('{}'),
      headers: {
        authorization: 'Bearer abcdefghijklmnopqrstuvwxyz',
        'proxy-authorization': 'Basic dXNlcjpwYXNzd29yZA==',
        'set-cookie': ['a=1', 'b=2'],
        'X-Api-Token': 'short',
        'x-other': 'plain',
      },
      id: 'i',
      method: 'POST',
      path: '/p?token=abc&x=1',
      source: 'unknown',
      time: 't',
    })
    expect(entry.headers).to.deep.equal({
      authorization: 'Bearer ****',
      'proxy-authorization': 'Basic ****',
      'set-cookie': ['****', '****'],
      'x-api-token': '****',
      'x-other': 'plain',
    })
    expect(entry.path).to.equal('/p?token=****&x=1')
    expect(entry.body).to.equal('{}')
  })

  it('builds each line as the JSON of its entry, without copying clean headers', () => {
    const headers = {'content-type': 'application/json', 'user-agent': 'Pipedrive Webhooks'}
    const cases = [
      {
        body: Buffer.from('{"a":"\\"quoted\\" \\u2028 ✓"}\n'), headers, id: 'a', method: 'POST', path: '/x?y=1', source: 'pipedrive-v1' as const, time: 't',
      },
      {
        body: Buffer.from([0x7B, 0xFF, 0x7D]), headers: {Authorization: 'Bearer xyz', 'content-type': 'text/plain'}, id: 'b', method: 'PUT', path: '/?password=p', source: 'unknown' as const, time: 't',
      },
    ]
    for (const d of cases) {
      const line = journalLine(d)
      expect(line.endsWith('}\n')).to.equal(true)
      expect(line.slice(0, -1)).to.not.include('\n')
      expect(JSON.parse(line)).to.deep.equal(toJournalEntry(d))
      expect(line).to.equal(JSON.stringify(toJournalEntry(d)) + '\n')
    }

    expect(JSON.parse(journalLine(cases[1])).headers).to.deep.equal({authorization: 'Bearer ****', 'content-type': 'text/plain'})
    expect(JSON.parse(journalLine(cases[1])).path).to.equal('/?password=****')
  })

  it('acknowledges each line only once it is in the file, gathering lines that arrive together into one write', async () => {
    const file = tmpFile()
    const writer = await JournalWriter.open(file)
    const seen: boolean[] = []
    const acks = Array.from({length: 50}, (_, i) => writer.write(entry(`line-${i}`)).then(() => {
      seen[i] = readFileSync(file, 'utf8').includes(`"line-${i}"`)
    }))
    await Promise.all(acks)
    expect(seen.every(Boolean)).to.equal(true)
    await writer.close()
    const {entries} = await readJournal(file)
    expect(entries.map(e => e.id)).to.deep.equal(Array.from({length: 50}, (_, i) => `line-${i}`))
  })

  it('with sync, acknowledges after fdatasync, in order', async () => {
    const file = tmpFile()
    const writer = await JournalWriter.open(file, {sync: true})
    const order: number[] = []
    await Promise.all(Array.from({length: 20}, (_, i) => writer.appendLine(`{"id":"${i}","body":""}\n`).then(() => order.push(i))))
    expect(order).to.deep.equal(Array.from({length: 20}, (_, i) => i))
    await writer.close()
    expect(readFileSync(file, 'utf8').trim().split('\n')).to.have.length(20)
  })

  it('fails every line it cannot write (a full disk), says so once, and keeps trying', async () => {
    const errors: Error[] = []
    const writer = await JournalWriter.open('/dev/full', {onError: error => errors.push(error)})
    const results = await Promise.allSettled(['a', 'b', 'c'].map(id => writer.appendLine(`{"id":"${id}","body":""}\n`)))
    expect(results.map(r => r.status)).to.deep.equal(['rejected', 'rejected', 'rejected'])
    expect((results[0] as PromiseRejectedResult).reason.code).to.equal('ENOSPC')
    const later = await Promise.allSettled([writer.appendLine('{"id":"d","body":""}\n')])
    expect(later[0].status).to.equal('rejected')
    expect(errors).to.have.length(1)
    expect(writer.error).to.be.an('error')
    await writer.close()
    expect(writer.append('x\n', () => {})).to.equal(false)
  })

  it('refuses lines beyond its backlog limit instead of holding them in memory', async () => {
    const writer = await JournalWriter.open(tmpFile(), {maxPendingBytes: 100})
    const done: Array<Error | null> = []
    // the first line goes to the disk at once; the next ones wait in the batch, up to the limit
    expect(writer.append(`${'a'.repeat(80)}\n`, e => done.push(e))).to.equal(true)
    expect(writer.append(`${'b'.repeat(80)}\n`, e => done.push(e))).to.equal(true)
    expect(writer.append(`${'c'.repeat(80)}\n`, e => done.push(e))).to.equal(true)
    expect(writer.append(`${'d'.repeat(80)}\n`, e => done.push(e))).to.equal(false)
    await writer.close()
    expect(done).to.deep.equal([null, null, null])
  })

  it('cuts a batch a file size limit stopped half-way off the file, and never cuts what another process appended', function () {
    this.timeout(30_000)
    const writer = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'lib', 'deliveries', 'journal.ts')
    const script = join(dir, 'limited-writer.mts')
    writeFileSync(script, `
      import {appendFileSync} from 'node:fs'
      import {JournalWriter} from ${JSON.stringify(pathToFileURL(writer).href)}
      const [file, other] = process.argv.slice(2)
      const w = await JournalWriter.open(file)
      const results = []
      const line = async (id, size = 0) => w.appendLine(JSON.stringify({id, body: 'x'.repeat(size)}) + '\\n').then(() => results.push(id), e => results.push(e.code))
      await line('mine-1')
      if (other) appendFileSync(file, '{"id":"other","body":""}\\n')
      await line('big', 5000)
      await line('mine-2')
      await w.close()
      process.stdout.write(JSON.stringify(results))
    `)
    const run = (file: string, other: string) => {
      // bash counts ulimit -f in 1024-byte blocks: 4 KiB, and the big line does not fit
      const r = spawnSync('bash', ['-c', 'ulimit -f 4 && exec "$0" "$@"', process.execPath, '--import', 'tsx', script, file, other], {encoding: 'utf8'})
      expect(r.status, r.stderr).to.equal(0)
      return JSON.parse(r.stdout)
    }

    const alone = tmpFile()
    expect(run(alone, '')).to.deep.equal(['mine-1', 'EFBIG', 'mine-2'])
    expect(readFileSync(alone, 'utf8')).to.equal('{"id":"mine-1","body":""}\n{"id":"mine-2","body":""}\n')
    const shared = tmpFile()
    expect(run(shared, 'other')).to.deep.equal(['mine-1', 'EFBIG', 'EFBIG'])
    const lines = readFileSync(shared, 'utf8').split('\n')
    expect(lines.slice(0, 2)).to.deep.equal(['{"id":"mine-1","body":""}', '{"id":"other","body":""}'])
    expect(statSync(shared).size).to.equal(4096)
  })

  it('starts on a line of its own after a line torn by a crash', async () => {
    const file = tmpFile()
    writeFileSync(file, '{"id":"whole","body":""}\n{"id":"to')
    const writer = await JournalWriter.open(file)
    await writer.appendLine('{"id":"next","body":""}\n')
    await writer.close()
    const {entries, malformed} = await readJournal(file)
    expect(entries.map(e => e.id)).to.deep.equal(['whole', 'next'])
    expect(malformed).to.deep.equal([{line: 2, message: 'not valid JSON'}])
  })
})

describe('journal: redaction', () => {
  it('redacts secret-looking query parameters, keeping the rest byte for byte', () => {
    expect(redactQuery('/hooks')).to.equal('/hooks')
    expect(redactQuery('/hooks?page=2&x=%20y')).to.equal('/hooks?page=2&x=%20y')
    expect(redactQuery('/h?api_key=k1&sig=s&page=2&access_token=t&X-Auth=a&client_secret=c&apiKey=z&pass=p#frag'))
    .to.equal('/h?api_key=****&sig=****&page=2&access_token=****&X-Auth=****&client_secret=****&apiKey=****&pass=****#frag')
    expect(redactQuery('/h?%74oken=t&flag')).to.equal('/h?%74oken=****&flag')
  })

  it('redacts the headers named with --redact-header, and replay knows them as redacted', () => {
    const d = {
      body: Buffer.from('{}'),
      headers: {
        authorization: 'Basic abc=', 'x-hub-secret': 'hs', 'x-other': 'plain', 'x-signature': ['s1', 's2'],
      },
      id: 'r',
      method: 'POST',
      path: '/?signature=abc',
      redact: new Set(['x-hub-secret', 'x-signature']),
      source: 'unknown' as const,
      time: 't',
    }
    const line = JSON.parse(journalLine(d))
    expect(line.headers).to.deep.equal({
      authorization: 'Basic ****', 'x-hub-secret': '****', 'x-other': 'plain', 'x-signature': ['****', '****'],
    })
    expect(line.path).to.equal('/?signature=****')
    expect(JSON.stringify(line)).not.to.match(/hs"|s1|abc/)
    for (const v of Object.values(line.headers) as Array<string | string[]>) expect(isRedactedValue(v)).to.equal(v !== 'plain')
  })
})
