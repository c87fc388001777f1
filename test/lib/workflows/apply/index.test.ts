import {expect} from 'chai'
import nock from 'nock'
import * as Y from 'yaml'

import {parseDesiredState} from '../../../../src/lib/workflows/apply/file.js'
import {planProfile} from '../../../../src/lib/workflows/apply/index.js'
import {assertNockDone, cleanNock} from '../../../support/fakes.js'
import {PD, TOKEN, webhook} from '../../../support/fixtures.js'

const desired = () => parseDesiredState('pipedrive:\n  webhooks:\n    - {event: change.deal, url: "https://app.example.com/pd"}\n', 'pdhooks.yaml', {}, Y)
const ctx = {profile: 'default', timeoutMs: 5000, userAgent: 'pdhooks/test'}

describe('apply: a profile plan and its execute()', () => {
  let saved: string | undefined

  beforeEach(() => {
    saved = process.env.PDHOOKS_PIPEDRIVE_TOKEN
    process.env.PDHOOKS_PIPEDRIVE_TOKEN = TOKEN
  })

  afterEach(() => {
    cleanNock()
    if (saved === undefined) delete process.env.PDHOOKS_PIPEDRIVE_TOKEN
    else process.env.PDHOOKS_PIPEDRIVE_TOKEN = saved
  })

  it('planning reads and sends nothing else; execute() applies that plan with the clients and state it read', async () => {
    nock(PD).get('/v1/webhooks').once().reply(200, {data: []})
    const plan = await planProfile(desired(), ctx)
    expect(plan.result).to.deep.equal({plan: [{kind: 'pipedrive-webhook', label: 'change.deal v2.0 → https://app.example.com/pd', verb: 'create'}], profile: 'default'})
    // the result is plain data (the --json output): nothing of the plan's internals in it
    expect(structuredClone(plan.result)).to.deep.equal(plan.result)
    assertNockDone()

    let sent: any
    nock(PD).post('/v1/webhooks', b => {
      sent = b
      return true
    }).reply(201, (_uri, b: any) => ({data: webhook({...b, id: 71})}))
    const lines: string[] = []
    const done = await plan.execute({log: l => lines.push(l)})
    expect(sent).to.include({
      event_action: 'change', event_object: 'deal', subscription_url: 'https://app.example.com/pd', version: '2.0',
    })
    expect(done.plan).to.deep.equal(plan.result.plan)
    expect(done.results!.map(r => [r.verb, r.status, r.id])).to.deep.equal([['create', 'done', 71]])
    expect(lines.join('\n')).to.contain('change.deal')
    assertNockDone()
  })

  it('a plan that failed reports its error, and its execute() returns that result without a request', async () => {
    nock(PD).get('/v1/webhooks').reply(401, {error: 'unauthorized', success: false})
    const plan = await planProfile(desired(), ctx)
    expect(plan.result.plan).to.deep.equal([])
    expect(plan.result.error).to.include({exit: 3})
    expect(await plan.execute()).to.equal(plan.result)
    assertNockDone()
  })
})
