import {expect} from 'chai'
import nock from 'nock'

import {
  assertNockDone, cleanNock, PD, pdEnv, run, stubConfirm, webhook,
} from '../../helpers.js'
import {catchStraySignals} from '../../signals.js'

const CE = 'https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE='

describe('webhook delete', () => {
  afterEach(() => cleanNock())

  const H1 = webhook({id: 1, name: 'pdhooks change.deal'})
  const H2 = webhook({
    event_action: 'create', event_object: 'person', id: 2, name: 'crm sync', subscription_url: CE,
  })

  it('deletes named ids with --yes and reports each, naming it, as it completes', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [H1, H2, webhook({id: 3})]})
    nock(PD).delete('/v1/webhooks/1').reply(200, {status: 'ok', success: true})
    nock(PD).delete('/v1/webhooks/2').reply(200, {status: 'ok', success: true})
    const r = await run(['webhook:delete', '1', '2', '--yes', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.equal({deleted: 2, results: [{id: 1, status: 'deleted'}, {id: 2, status: 'deleted'}]})
    assertNockDone()
    nock(PD).get('/v1/webhooks').reply(200, {data: [H1, H2]})
    nock(PD).delete('/v1/webhooks/2').reply(200, {status: 'ok', success: true})
    const h = await run(['webhook:delete', '2', '2', '--yes'], pdEnv)
    expect(h.stdout.trim()).to.equal('Deleted webhook 2 (create.person → instance 20931 (api.cloud-elements.com))')
    expect(h.stderr).to.equal('')
    assertNockDone()
  })

  it('refuses without --yes off a terminal (exit 2), naming what it would delete, deleting nothing', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [H1]})
    const r = await run(['webhook:delete', '1'], pdEnv)
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('--yes').and.contain('1  change.deal (v2.0) → https://example.com/hook  "pdhooks change.deal"')
    assertNockDone()
  })

  it('the question names the webhook (event, target, name), and stops when refused', async () => {
    const {questions, restore} = stubConfirm(false)
    try {
      nock(PD).get('/v1/webhooks').reply(200, {data: [H1, H2]})
      const r = await run(['webhook:delete', '2'], pdEnv)
      expect(r.exit).to.equal(2)
      nock(PD).get('/v1/webhooks').reply(200, {data: [H1, H2]})
      const two = await run(['webhook:delete', '1', '2'], pdEnv)
      expect(two.exit).to.equal(2)
      expect(questions).to.deep.equal(['Delete webhook 2 create.person (v2.0) → instance 20931 (api.cloud-elements.com) "crm sync"?', 'Delete these 2 webhook(s)?'])
      expect(two.stderr).to.contain('  1  change.deal (v2.0) → https://example.com/hook  "pdhooks change.deal"')
      expect(two.stderr).to.contain('  2  create.person (v2.0) → instance 20931 (api.cloud-elements.com)  "crm sync"')
      assertNockDone()
    } finally {
      restore()
    }
  })

  it('an unknown id among known ones is exit 4 before any question, and nothing is deleted', async () => {
    const {questions, restore} = stubConfirm(true)
    try {
      nock(PD).get('/v1/webhooks').reply(200, {data: [H1, H2]})
      const del = nock(PD).delete(/\/v1\/webhooks\/\d+/).reply(200, {success: true})
      const r = await run(['webhook:delete', '1', '99', '98', '--json'], pdEnv)
      expect(r.exit).to.equal(4)
      expect(r.json().error.message).to.equal('No webhook 99, 98: nothing was deleted. See the ids with "pdhooks webhook list".')
      expect(questions).to.deep.equal([])
      expect(del.isDone()).to.equal(false)
      nock(PD).get('/v1/webhooks').reply(200, {data: [H1]})
      const one = await run(['webhook:delete', '99', '--yes'], pdEnv)
      expect(one.exit).to.equal(4)
      expect(one.stderr).to.contain('No webhook 99.')
    } finally {
      restore()
    }
  })

  it('an id deleted by someone else between the check and the delete is reported as already gone (exit 0)', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [H1]})
    nock(PD).delete('/v1/webhooks/1').reply(404, {errors: {id: ['not found']}, success: false})
    const r = await run(['webhook:delete', '1', '--yes'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(r.stdout).to.contain('Webhook 1 (change.deal → https://example.com/hook) was already gone')
  })

  it('a failed deletion is reported with the others (exit of the failure)', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [H1, H2]})
    nock(PD).delete('/v1/webhooks/1').reply(200, {success: true})
    nock(PD).delete('/v1/webhooks/2').reply(403, {message: 'Forbidden', success: false})
    const r = await run(['webhook:delete', '1', '2', '--yes'], pdEnv)
    expect(r.exit).to.equal(3)
    expect(r.stdout).to.contain('Deleted webhook 1')
    expect(r.stderr).to.contain('Failed webhook 2').and.contain('1 of 2 webhook(s) not deleted')
    assertNockDone()
    nock(PD).get('/v1/webhooks').reply(200, {data: [H1, H2]})
    nock(PD).delete('/v1/webhooks/1').reply(200, {success: true})
    nock(PD).delete('/v1/webhooks/2').reply(403, {message: 'Forbidden', success: false})
    const json = await run(['webhook:delete', '1', '2', '--yes', '--json'], pdEnv)
    expect(json.exit).to.equal(3)
    const doc = json.json()
    expect(doc.deleted).to.equal(1)
    expect(doc.results.map((x: any) => [x.id, x.status])).to.deep.equal([[1, 'deleted'], [2, 'failed']])
    expect(doc.error).to.include({code: 'partial_failure', status: null})
    expect(doc.error.message).to.match(/^1 of 2 webhook\(s\) not deleted: 2 \(/)
    assertNockDone()
  })

  describe('interrupted (SIGINT / SIGTERM) mid-way: finishes what is in flight, says what it did, exits 130 / 143', () => {
    catchStraySignals()
    const hooks = [1, 2, 3, 4].map(id => webhook({id, name: `hook ${id}`}))
    /** The signal arrives while webhook 2 is being deleted (emitted from inside its request). */
    function deletions(signal: NodeJS.Signals) {
      nock(PD).get('/v1/webhooks').reply(200, {data: hooks})
      nock(PD).delete('/v1/webhooks/1').reply(200, {success: true})
      nock(PD).delete('/v1/webhooks/2').delay(100).reply(200, () => {
        process.emit(signal as any)
        return {success: true}
      })
      return [nock(PD).delete('/v1/webhooks/3').reply(200, {success: true}), nock(PD).delete('/v1/webhooks/4').reply(200, {success: true})]
    }

    it('human output: each result as it completes, then what was not deleted and the command to finish', async () => {
      const rest = deletions('SIGINT')
      const listeners = process.listenerCount('SIGINT')
      const r = await run(['webhook:delete', '1', '2', '3', '4', '--yes', '--concurrency', '1'], pdEnv)
      expect(r.exit).to.equal(130)
      expect(r.stdout.trim().split('\n')).to.deep.equal([
        'Deleted webhook 1 (change.deal → https://example.com/hook)',
        'Deleted webhook 2 (change.deal → https://example.com/hook)',
      ])
      expect(r.stderr.trim().split('\n')).to.deep.equal([
        'Interrupted (SIGINT): deleted 2 of 4 webhook(s).',
        'Not deleted: 3, 4.',
        'To finish: pdhooks webhook delete 3 4 --yes',
      ])
      expect(rest.map(x => x.isDone())).to.deep.equal([false, false])
      expect(process.listenerCount('SIGINT'), 'handlers removed after the run').to.equal(listeners)
    })

    it('--json: one document saying what was done; SIGTERM is exit 143', async () => {
      deletions('SIGTERM')
      const listeners = process.listenerCount('SIGTERM')
      const r = await run(['webhook:delete', '1', '2', '3', '4', '--yes', '--concurrency', '1', '--json'], pdEnv)
      expect(r.exit).to.equal(143)
      expect(r.json()).to.deep.equal({
        error: {
          code: 'interrupted',
          deleted: 2,
          inFlight: [],
          message: 'Interrupted (SIGTERM): deleted 2 of 4 webhook(s).',
          notStarted: [3, 4],
          results: [{id: 1, status: 'deleted'}, {id: 2, status: 'deleted'}],
          signal: 'SIGTERM',
          status: null,
        },
      })
      expect(process.listenerCount('SIGTERM'), 'handlers removed after the run').to.equal(listeners)
    })
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
