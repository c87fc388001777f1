import {expect} from 'chai'
import nock from 'nock'

import {
  assertNockDone, cleanNock, run, stubPrompts,
} from '../../../helpers.js'
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
  afterEach(() => cleanNock())

  it('deletes one id with DELETE /entities/Webhooks/{id}', async () => {
    nock(PL, {reqheaders: {authorization: BASIC}}).delete(`${SPACE}/entities/Webhooks/${A}`).reply(200, {data: A, success: true})
    const r = await del([A, '--yes', '--json'])
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.equal({deleted: 1, results: [{id: A, status: 'deleted'}]})
    assertNockDone()
  })

  it('deletes several ids with one batch-delete whose body is the JSON array of ids', async () => {
    const sent = batch(ids => [200, {data: ids, success: true}])
    const r = await del([A, B, C, '--yes'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(sent.bodies).to.deep.equal([[A, B, C]])
    expect(r.stdout.trim().split('\n')).to.deep.equal([`Deleted Pipeliner webhook ${A}`, `Deleted Pipeliner webhook ${B}`, `Deleted Pipeliner webhook ${C}`])
    assertNockDone()
  })

  it('an explicit id missing from the batch answer is exit 4; the others are deleted', async () => {
    batch(() => [200, {data: [A], success: true}])
    const r = await del([A, B, '--yes', '--json'])
    expect(r.exit).to.equal(4)
    expect(r.json()).to.deep.equal({
      deleted: 1,
      error: {code: 'not_found', message: `1 of 2 Pipeliner webhook(s) not deleted: ${B} (not found).`, status: 404},
      results: [{id: A, status: 'deleted'}, {
        error: `No Pipeliner webhook ${B}.`, exit: 4, id: B, status: 'not-found',
      }],
    })
  })

  it('when batch-delete is refused (404), deletes each id on its own so every result is exact', async () => {
    batch(() => [404, plError(404, 404, 'ERROR_ENTITY_NOT_FOUND', `Webhook with id '${B}' not found`)])
    nock(PL).delete(`${SPACE}/entities/Webhooks/${A}`).reply(200, {data: A, success: true})
    nock(PL).delete(`${SPACE}/entities/Webhooks/${B}`).reply(404, plError(404, 404, 'ERROR_ENTITY_NOT_FOUND', `Webhook with id '${B}' not found`))
    const r = await del([A, B, '--yes'])
    expect(r.exit).to.equal(4)
    expect(r.stdout).to.contain(`Deleted Pipeliner webhook ${A}`)
    expect(r.stderr).to.contain(`Failed Pipeliner webhook ${B}: No Pipeliner webhook ${B}.`)
    expect(r.stderr).to.contain(`Error: 1 of 2 Pipeliner webhook(s) not deleted: ${B} (not found).`)
    assertNockDone()
  })

  it('an unknown single id is exit 4', async () => {
    nock(PL).delete(`${SPACE}/entities/Webhooks/${A}`).reply(404, plError(404, 404, 'ERROR_ENTITY_NOT_FOUND', `Webhook with id '${A}' not found`))
    const r = await del([A, '--yes', '--json'])
    expect(r.exit).to.equal(4)
    expect(r.json().results).to.deep.equal([{
      error: `No Pipeliner webhook ${A}.`, exit: 4, id: A, status: 'not-found',
    }])
    expect(r.json().error.code).to.equal('not_found')
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

  it('--all with nothing matching deletes nothing (exit 0)', async () => {
    listPage([plWebhook({url: 'https://other.net/b'})])
    const r = await del(['--all', '--url', 'example.com', '--yes'])
    expect(r.exit).to.equal(0)
    expect(r.stdout.trim()).to.equal('No Pipeliner webhooks match: nothing to delete.')
  })

  it('refuses without --yes off a terminal (exit 2), deleting nothing', async () => {
    const r = await del([A])
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('--yes')
    listPage([plWebhook({id: A})])
    const all = await del(['--all', '--json'])
    expect(all.exit).to.equal(2)
    expect(all.json().error.code).to.equal('confirmation_required')
  })

  it('asks on a terminal, and stops when refused', async () => {
    let asked = ''
    const restore = stubPrompts({
      async confirm(m: string) {
        asked = m
        return false
      },
      interactive: () => true,
    })
    try {
      listPage([plWebhook({id: A, url: 'https://example.com/a'})])
      const r = await del(['--all'])
      expect(r.exit).to.equal(2)
      expect(asked).to.equal('Delete 1 Pipeliner webhook(s) (every webhook of the space)?')
      expect(r.stderr).to.contain(`${A}  Account.Create  https://example.com/a`)
    } finally {
      restore()
    }
  })

  it('deletes after a yes on a terminal', async () => {
    const restore = stubPrompts({confirm: async () => true, interactive: () => true})
    try {
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
    nock(PL).delete(`${SPACE}/entities/Webhooks/${A}`).reply(401, plError(401, 401, 'ERROR_UNAUTHORIZED', 'Authentication failed'))
    const r = await del([A, '--yes', '--json'])
    expect(r.exit).to.equal(3)
    expect(r.json().results[0]).to.include({exit: 3, id: A, status: 'failed'})
    expect(r.stdout).not.to.contain(PL_PASSWORD)
    const none = await del([A, '--yes'], {})
    expect(none.exit).to.equal(3)
    expect(none.stderr).to.contain('PDHOOKS_PIPELINER_URL')
  })

  it('a batch-delete auth failure marks every id failed (exit 3)', async () => {
    batch(() => [403, plError(403, 403, 'ERROR_FORBIDDEN', 'Not allowed')])
    const r = await del([A, B, '--yes', '--json'])
    expect(r.exit).to.equal(3)
    expect(r.json().results.map((x: any) => x.status)).to.deep.equal(['failed', 'failed'])
    expect(r.json().error.code).to.equal('partial_failure')
  })
})
