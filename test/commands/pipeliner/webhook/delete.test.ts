import {expect} from 'chai'
import nock from 'nock'

import {
  assertNockDone, cleanNock, run, stubConfirm, stubPrompts,
} from '../../../helpers.js'
import {catchStraySignals} from '../../../signals.js'
import {
  BASIC, listPage, PL, PL_PASSWORD, plEnv, plError, plWebhook, SPACE, uuid,
} from '../helpers.js'

const del = (args: string[], env: Record<string, string | undefined> = plEnv) => run(['pipeliner:webhook:delete', ...args], env)
const A = uuid(1)
const B = uuid(2)
const C = uuid(3)

function batch(reply: (ids: string[]) => [number, unknown], times = 1) {
  const box: {bodies: string[][]} = {bodies: []}
  nock(PL, {reqheaders: {authorization: BASIC, 'content-type': 'application/json'}})
  .post(`${SPACE}/entities/Webhooks/batch-delete`, b => {
    box.bodies.push(b as string[])
    return true
  })
  .times(times)
  .reply((_u, b: any) => reply(b as string[]))
  return box
}

describe('pipeliner webhook delete', () => {
  catchStraySignals()

  afterEach(() => cleanNock())

  it('deletes one id with DELETE /entities/Webhooks/{id}', async () => {
    listPage([plWebhook({id: A})])
    nock(PL, {reqheaders: {authorization: BASIC}}).delete(`${SPACE}/entities/Webhooks/${A}`).reply(200, {data: A, success: true})
    const r = await del([A, '--yes', '--json'])
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.equal({deleted: 1, results: [{id: A, status: 'deleted'}]})
    assertNockDone()
  })

  it('deletes several ids with one batch-delete whose body is the JSON array of ids', async () => {
    listPage([plWebhook({id: A}), plWebhook({id: B}), plWebhook({id: C})])
    const sent = batch(ids => [200, {data: ids, success: true}])
    const r = await del([A, B, C, '--yes'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(sent.bodies).to.deep.equal([[A, B, C]])
    const label = 'Account.Create → https://example.com/pl'
    expect(r.stdout.trim().split('\n')).to.deep.equal([`Deleted Pipeliner webhook ${A} (${label})`, `Deleted Pipeliner webhook ${B} (${label})`, `Deleted Pipeliner webhook ${C} (${label})`])
    assertNockDone()
  })

  it('an unknown id among known ones is exit 4 before any question, and nothing is deleted', async () => {
    const {questions, restore} = stubConfirm(true)
    try {
      listPage([plWebhook({id: A}), plWebhook({id: C, is_deleted: true})])
      const sent = batch(() => [200, {success: true}])
      const r = await del([A, B, C, '--json'])
      expect(r.exit).to.equal(4)
      expect(r.json().error.message).to.equal(`No Pipeliner webhook ${B}, ${C}: nothing was deleted. See the ids with "pdhooks pipeliner webhook list".`)
      expect(questions).to.deep.equal([])
      expect(sent.bodies).to.deep.equal([])
    } finally {
      restore()
    }
  })

  it('an id listed but missing from the batch answer was deleted meanwhile ("gone", exit 0)', async () => {
    listPage([plWebhook({id: A}), plWebhook({id: B})])
    batch(() => [200, {data: [A], success: true}])
    const r = await del([A, B, '--yes', '--json'])
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.equal({deleted: 2, results: [{id: A, status: 'deleted'}, {id: B, status: 'gone'}]})
  })

  it('when batch-delete is refused (404), deletes each id on its own so every result is exact', async () => {
    listPage([plWebhook({id: A}), plWebhook({id: B})])
    batch(() => [404, plError(404, 404, 'ERROR_ENTITY_NOT_FOUND', `Webhook with id '${B}' not found`)])
    nock(PL).delete(`${SPACE}/entities/Webhooks/${A}`).reply(200, {data: A, success: true})
    nock(PL).delete(`${SPACE}/entities/Webhooks/${B}`).reply(404, plError(404, 404, 'ERROR_ENTITY_NOT_FOUND', `Webhook with id '${B}' not found`))
    const r = await del([A, B, '--yes'])
    expect(r.exit).to.equal(0)
    expect(r.stdout).to.contain(`Deleted Pipeliner webhook ${A}`)
    expect(r.stdout).to.contain(`Pipeliner webhook ${B} (Account.Create → https://example.com/pl) was already gone`)
    assertNockDone()
  })

  it('an unknown single id is exit 4 without a delete', async () => {
    listPage([])
    const r = await del([A, '--yes', '--json'])
    expect(r.exit).to.equal(4)
    expect(r.json().error).to.deep.equal({code: 'not_found', message: `No Pipeliner webhook ${A}. See the ids with "pdhooks pipeliner webhook list".`, status: 404})
    assertNockDone()
  })

  it('--all --url lists every page and batch-deletes only the matches; one gone meanwhile is fine', async () => {
    listPage([plWebhook({id: A, url: 'https://example.com/a'}), plWebhook({id: B, url: 'https://other.net/b'})], {next: 'p2'})
    listPage([plWebhook({id: C, url: 'https://example.com/c'}), plWebhook({id: uuid(4), is_deleted: true, url: 'https://example.com/d'})], {after: 'p2'})
    const sent = batch(() => [200, {data: [A], success: true}])
    const r = await del(['--all', '--url', 'example.com', '--yes', '--json'])
    expect(r.exit).to.equal(0)
    expect(sent.bodies).to.deep.equal([[A, C]])
    expect(r.json()).to.deep.equal({deleted: 2, results: [{id: A, status: 'deleted'}, {id: C, status: 'gone'}]})
    assertNockDone()
  })

  it('--all sends at most 100 ids per batch-delete, and a batch answer without ids counts as done', async () => {
    const hooks = Array.from({length: 105}, (_, i) => plWebhook({id: uuid(i + 1)}))
    listPage(hooks.slice(0, 100), {next: 'p2'})
    listPage(hooks.slice(100), {after: 'p2'})
    const sent = batch(() => [200, {success: true}], 2)
    const r = await del(['--all', '--yes', '--json'])
    expect(r.exit).to.equal(0)
    expect(sent.bodies.map(b => b.length)).to.deep.equal([100, 5])
    expect(sent.bodies.flat()).to.deep.equal(hooks.map(h => h.id))
    expect(r.json().deleted).to.equal(105)
  })

  it('interrupted during the first batch: that batch finishes, the next is never sent, exit 130 with what was not deleted', async () => {
    const hooks = Array.from({length: 103}, (_, i) => plWebhook({id: uuid(i + 1)}))
    listPage(hooks.slice(0, 100), {next: 'p2'})
    listPage(hooks.slice(100), {after: 'p2'})
    const sent = batch(ids => {
      process.emit('SIGINT')
      return [200, {data: ids, success: true}]
    }, 2)
    const r = await del(['--all', '--yes', '--json'])
    expect(r.exit).to.equal(130)
    expect(sent.bodies.map(b => b.length)).to.deep.equal([100])
    const {error} = r.json()
    expect(error).to.include({
      code: 'interrupted', deleted: 100, message: 'Interrupted (SIGINT): deleted 100 of 103 Pipeliner webhook(s).', signal: 'SIGINT',
    })
    expect(error.notStarted).to.deep.equal([uuid(101), uuid(102), uuid(103)])
    expect(error.results).to.have.length(100)
    cleanNock()
    listPage(hooks.slice(0, 2))
    batch(ids => {
      process.emit('SIGTERM')
      return [200, {data: ids, success: true}]
    })
    const h = await del([uuid(1), uuid(2), '--yes'])
    expect(h.exit).to.equal(143)
    expect(h.stdout.trim().split('\n')).to.have.length(2)
    expect(h.stderr.trim()).to.equal('Interrupted (SIGTERM): deleted 2 of 2 Pipeliner webhook(s).')
  })

  it('--all with nothing matching deletes nothing (exit 0)', async () => {
    listPage([plWebhook({url: 'https://other.net/b'})])
    const r = await del(['--all', '--url', 'example.com', '--yes'])
    expect(r.exit).to.equal(0)
    expect(r.stdout.trim()).to.equal('No Pipeliner webhooks match: nothing to delete.')
  })

  it('refuses without --yes off a terminal (exit 2), deleting nothing', async () => {
    listPage([plWebhook({id: A})])
    const r = await del([A])
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('--yes').and.contain(`${A}  Account.Create → https://example.com/pl`)
    listPage([plWebhook({id: A})])
    const all = await del(['--all', '--json'])
    expect(all.exit).to.equal(2)
    expect(all.json().error.code).to.equal('confirmation_required')
  })

  it('asks on a terminal, and stops when refused', async () => {
    const {questions, restore} = stubConfirm(false)
    try {
      listPage([plWebhook({id: A, url: 'https://example.com/a'})])
      const r = await del(['--all'])
      expect(r.exit).to.equal(2)
      expect(r.stderr).to.contain(`${A}  Account.Create → https://example.com/a`)
      listPage([plWebhook({events: ['Opportunity.*', 'Lead.Lost'], id: A, url: 'https://example.com/a'})])
      await del([A])
      expect(questions).to.deep.equal(['Delete these 1 Pipeliner webhook(s) (every webhook of the space)?', `Delete Pipeliner webhook ${A} Opportunity.*,Lead.Lost → https://example.com/a?`])
    } finally {
      restore()
    }
  })

  it('deletes after a yes on a terminal', async () => {
    const restore = stubPrompts({confirm: async () => true, interactive: () => true})
    try {
      listPage([plWebhook({id: A})])
      nock(PL).delete(`${SPACE}/entities/Webhooks/${A}`).reply(200, {data: A, success: true})
      const r = await del([A])
      expect(r.exit).to.equal(0)
      expect(r.stdout).to.contain(`Deleted Pipeliner webhook ${A}`)
    } finally {
      restore()
    }
  })

  it('usage errors (exit 2): nothing named, a non-UUID id, ids with --all, --url without --all', async () => {
    expect((await del([])).exit).to.equal(2)
    const bad = await del(['123', '--yes'])
    expect(bad.exit).to.equal(2)
    expect(bad.stderr).to.contain('ids are UUIDs')
    expect((await del([A, '--all', '--yes'])).exit).to.equal(2)
    expect((await del([A, '--url', 'x', '--yes'])).exit).to.equal(2)
  })

  it('401 is exit 3 and the password is never shown; missing credentials exit 3', async () => {
    listPage([plWebhook({id: A})])
    nock(PL).delete(`${SPACE}/entities/Webhooks/${A}`).reply(401, plError(401, 401, 'ERROR_UNAUTHORIZED', 'Authentication failed'))
    const r = await del([A, '--yes', '--json'])
    expect(r.exit).to.equal(3)
    expect(r.json().results[0]).to.include({exit: 3, id: A, status: 'failed'})
    expect(r.json()).to.deep.include({deleted: 0, error: {code: 'partial_failure', message: `1 of 1 Pipeliner webhook(s) not deleted: ${A} (${r.json().results[0].error}).`, status: null}})
    expect(r.stdout).not.to.contain(PL_PASSWORD)
    const none = await del([A, '--yes'], {})
    expect(none.exit).to.equal(3)
    expect(none.stderr).to.contain('PDHOOKS_PIPELINER_URL')
  })

  it('a batch-delete auth failure marks every id failed (exit 3)', async () => {
    listPage([plWebhook({id: A}), plWebhook({id: B})])
    batch(() => [403, plError(403, 403, 'ERROR_FORBIDDEN', 'Not allowed')])
    const r = await del([A, B, '--yes', '--json'])
    expect(r.exit).to.equal(3)
    expect(r.json().results.map((x: any) => x.status)).to.deep.equal(['failed', 'failed'])
    expect(r.json().error.code).to.equal('partial_failure')
  })
})
