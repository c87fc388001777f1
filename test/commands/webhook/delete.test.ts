import {expect} from 'chai'
import nock from 'nock'

import {
  assertNockDone, cleanNock, PD, pdEnv, run, stubPrompts, webhook,
} from '../../helpers.js'

const CE = 'https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE='

describe('webhook delete', () => {
  afterEach(() => cleanNock())

  it('deletes named ids with --yes and reports each', async () => {
    nock(PD).delete('/v1/webhooks/1').reply(200, {status: 'ok', success: true})
    nock(PD).delete('/v1/webhooks/2').reply(200, {status: 'ok', success: true})
    const r = await run(['webhook:delete', '1', '2', '--yes', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.equal({deleted: 2, results: [{id: 1, status: 'deleted'}, {id: 2, status: 'deleted'}]})
    assertNockDone()
  })

  it('refuses without --yes off a terminal (exit 2), deleting nothing', async () => {
    const r = await run(['webhook:delete', '1'], pdEnv)
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('--yes')
  })

  it('asks on a terminal and stops when refused', async () => {
    let asked = ''
    const restore = stubPrompts({
      async confirm(m: string) {
        asked = m
        return false
      }, interactive: () => true,
    })
    try {
      const r = await run(['webhook:delete', '1'], pdEnv)
      expect(r.exit).to.equal(2)
      expect(asked).to.contain('Delete webhook(s) 1')
    } finally {
      restore()
    }
  })

  it('an unknown explicit id is exit 4, the others are still deleted', async () => {
    nock(PD).delete('/v1/webhooks/1').reply(200, {success: true})
    nock(PD).delete('/v1/webhooks/99').reply(404, {errors: {id: ['not found']}, status: 'error', success: false})
    const r = await run(['webhook:delete', '1', '99', '--yes'], pdEnv)
    expect(r.exit).to.equal(4)
    expect(r.stdout).to.contain('Deleted webhook 1')
    expect(r.stderr).to.contain('99')
    assertNockDone()
  })

  it('--all with filters deletes only matches; one deleted meanwhile is fine', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {
      data: [
        webhook({id: 1, name: 'pdhooks change.deal', subscription_url: CE}),
        webhook({id: 2, name: 'someone else', subscription_url: CE}),
        webhook({id: 3, name: 'pdhooks x', subscription_url: 'https://example.com/other'}),
        webhook({
          event_action: 'delete', id: 4, name: 'pdhooks y', subscription_url: CE,
        }),
      ],
    })
    nock(PD).delete('/v1/webhooks/1').reply(404, {errors: {id: ['not found']}, success: false})
    const r = await run(['webhook:delete', '--all', '--instance', '20931', '--mine', '--event', 'change.*', '--yes', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.equal({deleted: 1, results: [{id: 1, status: 'gone'}]})
    assertNockDone()
  })

  it('usage errors', async () => {
    expect((await run(['webhook:delete'], pdEnv)).exit).to.equal(2)
    expect((await run(['webhook:delete', 'abc', '--yes'], pdEnv)).exit).to.equal(2)
    expect((await run(['webhook:delete', '1', '--all', '--yes'], pdEnv)).exit).to.equal(2)
  })

  it('stays under a 10-requests-per-2-seconds limit while deleting 30 webhooks', async function () {
    this.timeout(30_000)
    const hooks = Array.from({length: 30}, (_, i) => webhook({id: i + 1}))
    const sent: number[] = []
    nock(PD).get('/v1/webhooks').reply(200, {data: hooks}, {'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '9', 'x-ratelimit-reset': '2'})
    // a rolling 2 s window of 10 requests, like Pipedrive's burst limit
    nock(PD).delete(/\/v1\/webhooks\/\d+/).times(40).reply(() => {
      const now = Date.now()
      const recent = sent.filter(t => now - t < 2000)
      if (recent.length >= 10) {
        const reset = Math.max(0.05, (2000 - (now - recent[0])) / 1000)
        return [429, {error: 'Request over limit', success: false}, {'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset)}]
      }

      sent.push(now)
      const oldest = recent.length > 0 ? recent[0] : now
      return [200, {success: true}, {'x-ratelimit-limit': '10', 'x-ratelimit-remaining': String(9 - recent.length), 'x-ratelimit-reset': String(Math.max(0.05, (2000 - (now - oldest)) / 1000))}]
    })
    const r = await run(['webhook:delete', '--all', '--yes', '--json'], pdEnv)
    expect(r.exit, r.stdout).to.equal(0)
    expect(r.json().deleted).to.equal(30)
    expect(r.json().results.every((x: any) => x.status === 'deleted')).to.equal(true)
  })
})
