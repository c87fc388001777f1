// e2e: `pdhooks listen` (the built CLI, a child process) under faults: a journal that cannot be written, a file size
// limit that cuts a batch in the middle, a relay target that never answers, slow clients, and senders that put terminal
// control sequences in what gets printed. Nothing here needs the sandbox.
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, readFileSync, statSync} from 'node:fs'
import net from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {track} from '../support/children.js'
import {blackHole, post} from '../support/receiver.js'
import {binRun, cleanEnv, ensureBuilt} from './helpers.js'

interface Running {
  exited: Promise<{code: null | number; ms: number}>
  pid: number
  stderr: () => string
  stdout: () => string
  url: string
  /** Sends a signal and starts the clock of `exited`. */
  signal(sig: NodeJS.Signals): void
}

/** Starts `pdhooks listen --port 0 …args` (under `ulimit -f` when `fileBlocks` is set) and resolves once it is ready. */
function listen(args: string[], opts: {fileBlocks?: number} = {}): Promise<Running> {
  const argv = [binRun, 'listen', '--port', '0', ...args]
  const child = track(opts.fileBlocks === undefined
    ? spawn(process.execPath, argv, {env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe']})
    // bash counts ulimit -f in 1024-byte blocks; exec keeps the pid
    : spawn('bash', ['-c', `ulimit -f ${opts.fileBlocks} && exec "$0" "$@"`, process.execPath, ...argv], {env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe']}))
  let stdout = ''
  let stderr = ''
  let signalled = 0
  child.stdout.on('data', d => {
    stdout += d
  })
  const exited = new Promise<{code: null | number; ms: number}>(resolve => {
    child.on('exit', code => resolve({code, ms: Date.now() - signalled}))
  })
  return new Promise((resolve, reject) => {
    child.stderr.on('data', d => {
      stderr += d
      const m = /Ready: (\S+)/.exec(stderr)
      if (m) {
        resolve({
          exited,
          pid: child.pid as number,
          signal(sig) {
            signalled ||= Date.now()
            child.kill(sig)
          },
          stderr: () => stderr,
          stdout: () => stdout,
          url: m[1],
        })
      }
    })
    child.on('exit', () => reject(new Error(`listen exited before it was ready: ${stderr}`)))
  })
}

const delivery = (i: number, pad = 0): string => JSON.stringify({
  data: {id: i, notes: 'n'.repeat(pad), title: `Deal ${i}`},
  meta: {
    action: 'change', attempt: 1, entity: 'deal', entity_id: String(i), id: `e-${i}`, version: '2.0', webhook_id: '1',
  },
  previous: {title: 'Old'},
})

const count = (text: string, part: string): number => text.split(part).length - 1

describe('e2e: listen under faults', function () {
  this.timeout(60_000)
  ensureBuilt()
  const dir = mkdtempSync(join(tmpdir(), 'pdhooks-e2e-listen-faults-'))

  it('--journal /dev/full: every delivery is answered 503 (never 200), the failure is said once, Ctrl-C exits 0', async () => {
    const app = await listen(['--journal', '/dev/full'])
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push(await post(app.url, delivery(i)))
    expect(statuses).to.deep.equal([503, 503, 503, 503])
    app.signal('SIGINT')
    const {code} = await app.exited
    expect(code).to.equal(0)
    expect(count(app.stderr(), 'Cannot write journal /dev/full')).to.equal(1)
    expect(app.stderr()).to.contain('Deliveries are answered 503 (the sender will retry) until it can be written again.')
    expect(app.stderr()).to.contain('Stopped: 0 accepted, 4 rejected (503: 4 journal unwritable).')
    expect(app.stdout()).to.equal('')
  })

  it('a file size limit hit in the middle of a batch: no 200 without its complete line, nothing partial left', async () => {
    const journal = join(dir, 'limited.ndjson')
    const app = await listen(['--journal', journal], {fileBlocks: 8})
    const statuses: number[] = []
    // sequential deliveries of ~1.4 KB lines: the 6th crosses 8 KiB, is cut off, and everything after stays refused
    for (let i = 0; i < 8; i++) statuses.push(await post(app.url, delivery(i, 1000)))
    // concurrent ones share batches: whatever the batches, only what was kept is acknowledged
    statuses.push(...await Promise.all([8, 9, 10].map(i => post(app.url, delivery(i, 1000)))))
    app.signal('SIGINT')
    expect((await app.exited).code).to.equal(0)
    const ok = statuses.filter(s => s === 200).length
    expect(ok).to.equal(5)
    expect(statuses.filter(s => s === 503)).to.have.length(statuses.length - ok)
    const text = readFileSync(journal, 'utf8')
    expect(text.endsWith('\n')).to.equal(true)
    const lines = text.trimEnd().split('\n').map(l => JSON.parse(l))
    expect(lines.map(l => JSON.parse(l.body).data.id)).to.deep.equal([0, 1, 2, 3, 4])
    expect(statSync(journal).size).to.be.at.most(8192)
    expect(count(app.stderr(), 'Cannot write journal')).to.equal(1)
    expect(app.stderr()).to.match(/File too large|EFBIG/)
  })

  it('--forward-to a target that never answers: 503 once the queue is full; Ctrl-C ends the run and reports the unforwarded', async () => {
    const hole = await blackHole()
    const target = hole.url
    const journal = join(dir, 'relay.ndjson')
    try {
      const app = await listen(['--journal', journal, '--forward-to', target, '--forward-queue', '5', '--forward-timeout', '60'])
      const statuses = await Promise.all(Array.from({length: 8}, (_, i) => post(app.url, delivery(i))))
      expect(statuses.filter(s => s === 200)).to.have.length(5)
      expect(statuses.filter(s => s === 503)).to.have.length(3)
      expect(count(app.stderr(), 'the relay queue is full (5 deliveries wait for')).to.equal(1)
      app.signal('SIGINT')
      const {code, ms} = await app.exited
      expect(code).to.equal(0)
      // the grace given to relays in progress is 5 s
      expect(ms).to.be.within(4000, 12_000)
      expect(app.stderr()).to.contain('Stopping: waiting up to 5 s for 5 relays in progress (Ctrl-C again to stop now).')
      const ids = readFileSync(journal, 'utf8').trim().split('\n').map(l => JSON.parse(l).id)
      expect(ids).to.have.length(5)
      const warning = /Warning: 5 accepted deliveries were not forwarded to (\S+) \(stopped before the target answered\)\. They are in the journal: pdhooks replay --journal (\S+) --to (\S+) --id ID \((.*)\)/.exec(app.stderr())
      expect(warning?.slice(1, 4)).to.deep.equal([target, journal, target])
      expect(warning?.[4].split(', ').sort()).to.deep.equal([...ids].sort())
      expect(count(app.stdout(), 'not forwarded: the listener stopped')).to.equal(5)
    } finally {
      await hole.close()
    }
  })

  it('a second Ctrl-C stops at once', async () => {
    const hole = await blackHole()
    try {
      const app = await listen(['--forward-to', hole.url])
      expect(await post(app.url, delivery(1))).to.equal(200)
      app.signal('SIGINT')
      await new Promise(r => {
        setTimeout(r, 300)
      })
      app.signal('SIGINT')
      const {code, ms} = await app.exited
      expect(code).to.equal(0)
      expect(ms).to.be.below(3000)
      expect(app.stderr()).to.contain('1 accepted delivery was not forwarded')
      expect(app.stderr()).to.contain('not kept anywhere: use --journal')
    } finally {
      await hole.close()
    }
  })

  it('slow clients get 408 and are cut off; control sequences from senders are printed escaped', async () => {
    const app = await listen(['--headers-timeout', '1', '--request-timeout', '2'])
    const socket = net.connect(Number(new URL(app.url).port), '127.0.0.1')
    await once(socket, 'connect')
    const t0 = Date.now()
    let reply = ''
    socket.on('data', d => {
      reply += d
    })
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    await once(socket, 'close')
    expect(Date.now() - t0).to.be.below(4000)
    expect(reply).to.match(/^HTTP\/1\.1 408 /)

    const evil = '\u001B]0;owned\u0007\u001B[2J\u009B1m'
    const body = JSON.stringify({
      event: `added.${evil}`, meta: {
        action: 'added', id: evil, object: `deal${evil}`, v: 1,
      }, retry: 0, v: 1,
    })
    expect(await post(app.url, body)).to.equal(200)
    expect(await post(app.url, `${evil}{"not":"json"}`)).to.equal(400)
    app.signal('SIGINT')
    expect((await app.exited).code).to.equal(0)
    const printed = app.stdout() + app.stderr()
    // eslint-disable-next-line no-control-regex
    expect(printed).not.to.match(/[\u0007\u001B\u009B]/)
    expect(app.stdout()).to.contain(String.raw`added.deal\x1b]0;owned\x07\x1b[2J\x9b1m`)
    expect(app.stderr()).to.contain('rejected request from 127.0.0.1: 408 headers not received within 1 s')
    expect(app.stderr()).to.match(/rejected POST \/: 400 malformed JSON \(.*\\x1b/)
  })

  it('--json output carries control characters only as \\u escapes', async () => {
    const app = await listen(['--json', '--max-events', '1'])
    const body = JSON.stringify({
      meta: {
        action: 'added', id: '\u009B31m\u202E', object: 'deal', v: 1,
      }, retry: 0, v: 1,
    })
    expect(await post(app.url, body)).to.equal(200)
    expect((await app.exited).code).to.equal(0)
    // eslint-disable-next-line no-control-regex
    expect(app.stdout().trimEnd()).not.to.match(/[\u0000-\u001F\u007F-\u009F\u202E]/)
    expect(JSON.parse(app.stdout()).objectId).to.equal('\u009B31m\u202E')
  })
})
