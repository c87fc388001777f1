import {expect} from 'chai'
import {
  mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {PdhooksError} from '../../../src/lib/core/errors.js'
import {rfc3339, timeOf} from '../../../src/lib/pipedrive/changed.js'
import {v2Base} from '../../../src/lib/pipedrive/client.js'
import {
  actionFor, backfillBody, type BackfillState, emptyCounts, journalHas, journalIndex, kindsOf, stableUuid, StateFile, stateKey,
} from '../../../src/lib/workflows/backfill.js'

const at = (s: string) => Date.parse(s)
/** A journal line holding `body`. */
const line = (body: unknown, base64 = false) => JSON.stringify({
  headers: {}, id: String(Math.random()), method: 'POST', path: '/', source: 'pipedrive-v2', time: '', ...(base64 ? {bodyBase64: Buffer.from(JSON.stringify(body)).toString('base64')} : {body: JSON.stringify(body)}),
})
const state = (key: string): BackfillState => ({
  command: 'pdhooks backfill', counts: emptyCounts(), key, objects: ['deal'], position: {cursor: 'c', index: 0}, sentOnPage: ['deal:1'], since: 1, startedAt: '', until: 2, updatedAt: '', version: 1,
})
const window = {since: at('2026-12-01T10:00:00.500Z'), until: at('2026-12-01T12:00:00Z')}

describe('workflows/backfill', () => {
  it('the API v2 base beside any v1 base', () => {
    expect(v2Base('https://api.pipedrive.com/v1')).to.equal('https://api.pipedrive.com/api/v2')
    expect(v2Base('https://acme.pipedrive.com/api/v1/')).to.equal('https://acme.pipedrive.com/api/v2')
    expect(v2Base('http://127.0.0.1:4010/v1')).to.equal('http://127.0.0.1:4010/api/v2')
  })

  it('times: RFC 3339 in whole seconds; Pipedrive\'s two time forms', () => {
    expect(rfc3339(at('2026-12-01T10:00:00.999Z'))).to.equal('2026-12-01T10:00:00Z')
    expect(timeOf('2026-12-01 10:00:00')).to.equal(at('2026-12-01T10:00:00Z'))
    expect(timeOf('2026-12-01T10:00:00Z')).to.equal(at('2026-12-01T10:00:00Z'))
    expect(timeOf(null)).to.be.NaN
  })

  it('create when added in the window (its second counts), else change; the webhook\'s action filters', () => {
    const added = {add_time: '2026-12-01T10:00:00Z', update_time: '2026-12-01T10:00:00Z'}
    const addedThenChanged = {add_time: '2026-12-01T10:00:00Z', update_time: '2026-12-01T11:00:00Z'}
    const old = {add_time: '2026-11-01T10:00:00Z', update_time: '2026-12-01T11:00:00Z'}
    expect(actionFor(added, window, '*')).to.equal('create')
    expect(actionFor(old, window, '*')).to.equal('change')
    expect(actionFor({update_time: '2026-12-01T11:00:00Z'}, window, '*')).to.equal('change')
    expect(actionFor(old, window, 'create')).to.equal(undefined)
    expect(actionFor(added, window, 'create')).to.equal('create')
    // a change-only webhook heard of an object created in the window only if it changed afterwards
    expect(actionFor(added, window, 'change')).to.equal(undefined)
    expect(actionFor(addedThenChanged, window, 'change')).to.equal('change')
    expect(actionFor(old, window, 'change')).to.equal('change')
  })

  it('the journal skips the same version or an older one, never a newer one (whole seconds)', () => {
    const index = new Map([['deal:1', at('2026-12-01T11:00:00.700Z')]])
    expect(journalHas(index, 'deal', '1', at('2026-12-01T11:00:00Z'))).to.equal(true)
    expect(journalHas(index, 'deal', '1', at('2026-12-01T10:59:00Z'))).to.equal(true)
    expect(journalHas(index, 'deal', '1', at('2026-12-01T11:00:01Z'))).to.equal(false)
    expect(journalHas(index, 'person', '1', at('2026-12-01T10:00:00Z'))).to.equal(false)
    expect(journalHas(undefined, 'deal', '1', at('2026-12-01T10:00:00Z'))).to.equal(false)
    expect(journalHas(index, 'deal', '1', Number.NaN)).to.equal(false)
  })

  it('reads a listen journal: v2 and v1 deliveries (their latest time per object), other lines skip nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdhooks-backfill-'))
    const file = join(dir, 'j.ndjson')
    writeFileSync(file, [
      line({
        data: {id: 1, update_time: '2026-12-01T11:00:00Z'}, meta: {
          action: 'change', entity: 'deal', entity_id: '1', timestamp: '2026-12-01T10:59:59.000Z',
        },
      }),
      line({
        data: {id: 1}, meta: {
          action: 'change', entity: 'deal', entity_id: '1', timestamp: '2026-12-01T10:00:00.000Z',
        },
      }),
      line({
        current: {id: 5}, meta: {
          action: 'updated', id: 5, object: 'person', timestamp: 1_764_586_800,
        }, v: 1,
      }, true),
      line({message: {events: []}}),
      line('not json at all'),
      '{"id":"x","body":"{oops"}',
      'garbage',
      '',
    ].join('\n') + '\n')
    const j = await journalIndex(file)
    expect([...j.index.entries()]).to.deep.equal([['deal:1', at('2026-12-01T11:00:00Z')], ['person:5', 1_764_586_800_000]])
    expect(j.unreadable).to.equal(2)
    expect(j.lines).to.equal(7)
  })

  it('a backfill delivery: the v2 envelope, change_source backfill, previous null, the object\'s update time, stable ids', () => {
    const item = {
      add_time: '2026-11-01T10:00:00Z', id: 7, title: 'Big deal', update_time: '2026-12-01T11:00:00Z',
    }
    const ctx = {
      companyId: 99, host: 'acme.pipedrive.com', userId: 3, webhookId: 42, webhookOwnerId: 4,
    }
    const a = backfillBody('deal', item, 'change', ctx) as any
    expect(a.meta).to.include({
      action: 'change', attempt: 1, change_source: 'backfill', company_id: '99', entity: 'deal', entity_id: '7', host: 'acme.pipedrive.com', timestamp: '2026-12-01T11:00:00.000Z', user_id: '3', version: '2.0', webhook_id: '42', webhook_owner_id: '4',
    })
    expect(a.data).to.deep.equal(item)
    expect(a.previous).to.equal(null)
    const b = backfillBody('deal', item, 'change', ctx, 3) as any
    expect(b.meta.attempt).to.equal(3)
    expect(b.meta.id).to.equal(a.meta.id)
    expect(b.meta.correlation_id).to.equal(a.meta.correlation_id)
    expect(a.meta.id).to.match(/^[\da-f]{8}-[\da-f]{4}-4[\da-f]{3}-[89ab][\da-f]{3}-[\da-f]{12}$/)
    const newer = backfillBody('deal', {...item, update_time: '2026-12-01T11:30:00Z'}, 'change', ctx) as any
    expect(newer.meta.id).not.to.equal(a.meta.id)
    expect(stableUuid('x')).to.equal(stableUuid('x'))
  })

  it('objects keep backfill\'s order whatever order they are named in; keys differ with any parameter', () => {
    expect(kindsOf(['stage', 'deal', 'deal', 'nope']).map(k => k.object)).to.deep.equal(['deal', 'stage'])
    expect(stateKey({since: '2h', to: 'a'})).to.equal(stateKey({since: '2h', to: 'a'}))
    expect(stateKey({since: '2h', to: 'a'})).not.to.equal(stateKey({since: '3h', to: 'a'}))
  })

  describe('the progress file', () => {
    it('is written atomically with mode 0600 and read back; a malformed one is an error naming it', () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'pdhooks-backfill-')), 'backfill')
      const f = new StateFile(dir, 'k1')
      expect(() => f.read()).not.to.throw()
      expect(f.read()).to.equal(undefined)
      f.acquire()
      f.write(state('k1'))
      expect(f.read()).to.deep.include({position: {cursor: 'c', index: 0}, sentOnPage: ['deal:1']})
      expect(statSync(f.file).mode & 0o777).to.equal(0o600)
      expect(readdirSync(dir).sort()).to.deep.equal(['k1.json', 'k1.lock'])
      f.release()
      expect(readdirSync(dir)).to.deep.equal(['k1.json'])
      writeFileSync(f.file, '{"version":1,"key":"other"}')
      expect(() => f.read()).to.throw(PdhooksError, `The backfill progress ${f.file} is not valid.`)
      f.remove()
      expect(readdirSync(dir)).to.deep.equal([])
    })

    it('a progress file that cannot be written is exit 1 naming it, and leaves no temporary file', () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'pdhooks-backfill-')), 'backfill')
      const f = new StateFile(dir, 'k3')
      f.acquire()
      // the temporary file's name taken by a folder: the write fails as on a full disk
      mkdirSync(`${f.file}.${process.pid}.tmp`)
      let error: PdhooksError | undefined
      try {
        f.write(state('k3'))
      } catch (error_) {
        error = error_ as PdhooksError
      }

      expect(error?.exit).to.equal(1)
      expect(error?.message).to.equal(`Cannot save the backfill progress ${f.file} (EISDIR).`)
      expect(error?.hint).to.include('same meta.id')
      expect(f.read()).to.equal(undefined)
      f.release()
    })

    it('two runs with the same parameters: the second is exit 5 while the first lives; a dead run\'s lock is taken over', () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'pdhooks-backfill-')), 'backfill')
      const f = new StateFile(dir, 'k2')
      f.acquire()
      writeFileSync(join(dir, 'k2.lock'), String(process.ppid))
      const other = new StateFile(dir, 'k2')
      let error: PdhooksError | undefined
      try {
        other.acquire()
      } catch (error_) {
        error = error_ as PdhooksError
      }

      expect(error?.exit).to.equal(5)
      expect(error?.message).to.equal(`Another backfill with the same parameters is running (pid ${process.ppid}).`)
      writeFileSync(join(dir, 'k2.lock'), '2147483646')
      other.acquire()
      expect(readFileSync(join(dir, 'k2.lock'), 'utf8')).to.equal(String(process.pid))
      other.release()
    })
  })
})
