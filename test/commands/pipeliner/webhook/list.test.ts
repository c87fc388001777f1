import {expect} from 'chai'
import nock from 'nock'

import {assertNockDone, cleanNock, listPage} from '../../../support/fakes.js'
import {
  BASIC, PL, PL_PASSWORD, PL_SPACE, plEnv, plError, plWebhook, SIG, uuid,
} from '../../../support/fixtures.js'
import {run} from '../../../support/run.js'

const list = (args: string[] = [], env: Record<string, string | undefined> = plEnv) => run(['pipeliner:webhook:list', ...args], env)

const PAGE1 = Array.from({length: 100}, (_, i) => plWebhook({events: ['Account.Create'], id: uuid(i + 1), url: `https://a.example.com/${i + 1}`}))
const PAGE2 = [
  plWebhook({
    created: '2024-06-02T08:09:10', events: ['Opportunity.*', 'Lead.Lost'], id: uuid(101), insecure_ssl: true, signature: SIG, url: 'https://hooks.example.com/pl',
  }),
  plWebhook({events: ['*'], id: uuid(102), url: 'https://b.example.com/all'}),
]
const PAGE3 = [
  plWebhook({events: ['Task.Comment'], id: uuid(103), url: 'https://hooks.example.com/tasks'}),
  plWebhook({
    events: ['Task.Comment'], id: uuid(104), is_deleted: true, url: 'https://hooks.example.com/deleted',
  }),
]

function threePages(): void {
  nock(PL, {reqheaders: {authorization: BASIC}}).get(`${PL_SPACE}/entities/Webhooks`).query({first: '100'})
  .reply(200, {data: PAGE1, page_info: {end_cursor: 'cursor-1', has_next_page: true}, success: true})
  listPage(PAGE2, {after: 'cursor-1', next: 'cursor-2'})
  listPage(PAGE3, {after: 'cursor-2'})
}

describe('pipeliner webhook list', () => {
  afterEach(() => cleanNock())

  it('follows every cursor page and prints the table (ID EVENTS URL INSECURE SSL SIGNED CREATED)', async () => {
    threePages()
    const r = await list()
    expect(r.exit, r.stderr).to.equal(0)
    const [head, ...rows] = r.stdout.trim().split('\n')
    expect(head.split(/\s{2,}/)).to.deep.equal(['ID', 'EVENTS', 'URL', 'INSECURE SSL', 'SIGNED', 'CREATED'])
    expect(rows).to.have.length(103)
    expect(rows[100].split(/\s{2,}/)).to.deep.equal([uuid(101), 'Opportunity.*,Lead.Lost', 'https://hooks.example.com/pl', 'yes', 'yes', '2024-06-02 08:09'])
    expect(rows[101].split(/\s{2,}/)).to.deep.equal([uuid(102), '*', 'https://b.example.com/all', 'no', 'no', '2024-05-01 10:20'])
    expect(r.stdout).not.to.contain(SIG)
    expect(r.stdout).not.to.contain(SIG.slice(0, 4))
    expect(r.stdout).not.to.contain('deleted')
    assertNockDone()
  })

  it('--json: total and masked views, one document', async () => {
    threePages()
    const r = await list(['--json'])
    expect(r.exit).to.equal(0)
    const doc = r.json()
    expect(doc.total).to.equal(103)
    expect(doc.webhooks).to.have.length(103)
    expect(doc.webhooks[100]).to.deep.equal({
      created: '2024-06-02T08:09:10',
      events: ['Opportunity.*', 'Lead.Lost'],
      id: uuid(101),
      insecureSsl: true,
      modified: '2024-05-01T10:20:30',
      options: null,
      signature: '0123…',
      signed: true,
      url: 'https://hooks.example.com/pl',
    })
    expect(doc.webhooks[101]).to.include({signature: null, signed: false})
    expect(r.stdout).not.to.contain(SIG)
    expect(r.stderr).to.equal('')
  })

  it('filters with --url and --event (overlapping patterns, any case)', async () => {
    threePages()
    expect((await list(['--url', 'hooks.example.com', '--json'])).json().webhooks.map((w: any) => w.id)).to.deep.equal([uuid(101), uuid(103)])
    threePages()
    const byEvent = (await list(['--event', 'opportunity.won', '--json'])).json()
    expect(byEvent.webhooks.map((w: any) => w.id)).to.deep.equal([uuid(101), uuid(102)])
    expect(byEvent.total).to.equal(103)
    threePages()
    expect((await list(['--event', 'Task.*', '--json'])).json().webhooks.map((w: any) => w.id)).to.deep.equal([uuid(102), uuid(103)])
    const bad = await list(['--event', 'Tsk.*'])
    expect(bad.exit).to.equal(2)
    expect(bad.stderr).to.contain('Did you mean "Task.*"?')
  })

  it('says so when there are none, or none match', async () => {
    listPage([])
    expect((await list()).stdout.trim()).to.equal('No Pipeliner webhooks.')
    listPage([plWebhook()])
    expect((await list(['--url', 'nothing-like-this'])).stdout.trim()).to.equal('No Pipeliner webhooks match (1 in all).')
  })

  it('errors: 401 exit 3, Pipeliner error body in one line, 404 exit 4, a cursor that repeats exit 1, 503 exit 6', async () => {
    nock(PL).get(`${PL_SPACE}/entities/Webhooks`).query(true).reply(401, plError(401, 401, 'ERROR_UNAUTHORIZED', 'Authentication failed'))
    const auth = await list()
    expect(auth.exit).to.equal(3)
    expect(auth.stderr).to.contain('Pipeliner rejected the API key pair')
    expect(auth.stderr).not.to.contain(PL_PASSWORD)

    nock(PL).get(`${PL_SPACE}/entities/Webhooks`).query(true).reply(400, plError(400, 117, 'ERROR_PARAMETER_INVALID', "Parameter 'first' must be an integer from 1 to 100"))
    const bad = await list()
    expect(bad.exit).to.equal(2)
    expect(bad.stderr.trim()).to.equal("Error: Pipeliner could not answer (400 from us-east.api.pipelinersales.com): Parameter 'first' must be an integer from 1 to 100 (ERROR_PARAMETER_INVALID 117).")

    nock(PL).get(`${PL_SPACE}/entities/Webhooks`).query(true).reply(404, plError(404, 404, 'ERROR_ENTITY_NOT_FOUND', "Space 'abc' not found"))
    const missing = await list(['--json'])
    expect(missing.exit).to.equal(4)
    expect(missing.json().error.status).to.equal(404)

    listPage([plWebhook()], {next: 'same'})
    listPage([plWebhook({id: uuid(2)})], {after: 'same', next: 'same'})
    const loop = await list(['--json'])
    expect(loop.exit).to.equal(1)
    expect(loop.json().error.code).to.equal('bad_response')

    nock(PL).get(`${PL_SPACE}/entities/Webhooks`).query(true).times(4).reply(503, '<html><title>Service Unavailable</title></html>', {'content-type': 'text/html'})
    const down = await list()
    expect(down.exit).to.equal(6)
    expect(down.stderr).to.contain('HTML page ("Service Unavailable")')
  })

  it('a 200 answer with success:false is an error, not an empty list', async () => {
    nock(PL).get(`${PL_SPACE}/entities/Webhooks`).query(true).reply(200, plError(200, 999, 'ERROR_UNKNOWN', 'Something went wrong'))
    const r = await list(['--json'])
    expect(r.exit).to.equal(1)
    expect(r.json().error.message).to.contain('Something went wrong (ERROR_UNKNOWN 999)')
  })
})
