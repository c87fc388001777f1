// A list answered 200 but malformed ({"success": false}, "data" that is not a list, an object instead of an array) is
// an error naming the service (exit 1), never an empty list: add creates nothing, delete --all does not say "nothing
// to delete".
import {expect} from 'chai'
import nock from 'nock'

import {assertNockDone, cleanNock, listPage} from '../support/fakes.js'
import {
  CE_HOST, ceEnv, PD, pdEnv, PL, PL_SPACE, plEnv,
} from '../support/fixtures.js'
import {run} from '../support/run.js'

const PD_BODIES: Array<[unknown, RegExp]> = [
  [{error: 'Internal', success: false}, /with "success": false \(Internal\) instead of the list of webhooks/],
  [{data: {id: 1}, success: true}, /with "data" that is not a list instead of the list of webhooks/],
  [{data: 'none', success: true}, /"data" that is not a list/],
  [{success: true}, /with no "data" instead/],
  [{data: [], success: false}, /"success": false/],
  [[], /no \{"data": \[…\]\} envelope/],
]

describe('a malformed success is an error, never an empty list', () => {
  afterEach(() => cleanNock())

  it('Pipedrive: webhook list, add (nothing created) and delete --all (never "nothing to delete") are exit 1 naming Pipedrive', async () => {
    for (const [body, re] of PD_BODIES) {
      nock(PD).get('/v1/webhooks').times(3).reply(200, body as nock.Body)
      const post = nock(PD).post('/v1/webhooks').reply(201, {data: {id: 1}})
      const list = await run(['webhook:list', '--json'], pdEnv)
      expect(list.exit, JSON.stringify(body)).to.equal(1)
      expect(list.json().error.code).to.equal('bad_response')
      expect(list.json().error.message).to.match(/^Pipedrive answered 200 from api\.pipedrive\.com/).and.match(re)
      const add = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook'], pdEnv)
      expect(add.exit).to.equal(1)
      expect(add.stderr).to.contain('Pipedrive answered 200').and.contain('Nothing was changed')
      expect(post.isDone()).to.equal(false)
      const del = await run(['webhook:delete', '--all', '--yes'], pdEnv)
      expect(del.exit).to.equal(1)
      expect(del.stdout + del.stderr).not.to.contain('nothing to delete')
      cleanNock()
    }
  })

  it('Pipedrive: {"success": true, "data": null} is an empty list (its v1 form of an empty collection)', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: null, success: true})
    const r = await run(['webhook:list', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.equal({total: 0, webhooks: []})
    assertNockDone()
  })

  it('Cloud Elements: instance list and create are exit 1 naming Cloud Elements when the list is not an array', async () => {
    for (const body of [{success: false}, {instances: []}, {message: 'Session expired'}]) {
      nock(CE_HOST).get('/elements/api-v2/instances').times(2).reply(200, body)
      const post = nock(CE_HOST).post('/elements/api-v2/instances').reply(200, {id: 1})
      const list = await run(['instance:list', '--json'], ceEnv)
      expect(list.exit, JSON.stringify(body)).to.equal(1)
      expect(list.json().error.message).to.match(/^Cloud Elements answered 200 from api\.cloud-elements\.com with an object.* instead of the list of instances\./)
      const create = await run(['instance:create', '--name', 'n', '--events', 'none', '--config', 'pipedrive.api.token=x'], ceEnv)
      expect(create.exit).to.equal(1)
      expect(create.stderr).to.contain('Cloud Elements answered 200')
      expect(post.isDone()).to.equal(false)
      cleanNock()
    }

    nock(CE_HOST).get('/elements/api-v2/instances').reply(200, {message: 'Session expired'})
    const r = await run(['instance:list'], ceEnv)
    expect(r.stderr).to.contain('an object ("Session expired")')
  })

  it('Pipeliner: list, add and delete --all are exit 1 naming Pipeliner for {"success": false} or "data" that is not a list', async () => {
    for (const body of [{data: [], success: false}, {data: {}, success: true}, {page_info: {}, success: true}]) {
      nock(PL).get(`${PL_SPACE}/entities/Webhooks`).query(true).times(3).reply(200, body)
      const post = nock(PL).post(`${PL_SPACE}/entities/Webhooks`).reply(201, {data: {id: 'x'}, success: true})
      const list = await run(['pipeliner:webhook:list', '--json'], plEnv)
      expect(list.exit, JSON.stringify(body)).to.equal(1)
      expect(list.json().error.message).to.match(/^Pipeliner (answered|reported)/)
      const add = await run(['pipeliner:webhook:add', '--event', 'Account.Create', '--url', 'https://example.com/pl'], plEnv)
      expect(add.exit).to.equal(1)
      expect(post.isDone()).to.equal(false)
      const del = await run(['pipeliner:webhook:delete', '--all', '--yes'], plEnv)
      expect(del.exit).to.equal(1)
      expect(del.stdout + del.stderr).not.to.contain('nothing to delete')
      cleanNock()
    }

    listPage([])
    const ok = await run(['pipeliner:webhook:list', '--json'], plEnv)
    expect(ok.exit).to.equal(0)
  })
})
