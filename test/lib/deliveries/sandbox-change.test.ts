// trigger --sandbox asks a running sandbox to make a change (changeInSandbox, lib/deliveries/trigger.ts): what it sends,
// and how each wrong answer reads.
import {expect} from 'chai'
import nock from 'nock'

import {ExitCode} from '../../../src/lib/core/errors.js'
import {changeInSandbox} from '../../../src/lib/deliveries/trigger.js'
import {rejection} from '../../support/usage.js'

const BASE = 'http://sandbox.example.test:4010'

describe('changeInSandbox (trigger --sandbox)', () => {
  afterEach(() => nock.cleanAll())

  it('POSTs the change as JSON to /sandbox/events and numbers the deliveries it reports', async () => {
    const scope = nock(BASE, {reqheaders: {accept: 'application/json', 'content-type': 'application/json'}})
    .post('/sandbox/events', {action: 'change', object: 'deal'})
    .reply(200, {
      deliveries: [{
        event: 'change.deal', ms: 12, status: 200, url: 'https://app.example.test/hook', webhook_id: 7,
      }, {
        error: 'ECONNREFUSED', ms: 3, status: 0, url: 'http://127.0.0.1:9/x', webhook_id: 8,
      }],
    })
    const {deliveries} = await changeInSandbox(BASE, {action: 'change', object: 'deal'}, 2000)
    expect(scope.isDone()).to.equal(true)
    expect(deliveries).to.deep.equal([
      {
        description: 'change.deal webhook 7 → https://app.example.test/hook', ms: 12, n: 1, status: 200,
      },
      {
        description: 'webhook 8 → http://127.0.0.1:9/x', error: 'ECONNREFUSED', ms: 3, n: 2, status: null,
      },
    ])
  })

  it('nothing answering: unavailable (exit 3), naming the system error and how to start one', async () => {
    nock(BASE).post('/sandbox/events').replyWithError(Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}))
    const e = await rejection(changeInSandbox(BASE, {}, 2000))
    expect(e.message).to.equal(`No sandbox answers at ${BASE} (ECONNREFUSED).`)
    expect(e.exit).to.equal(ExitCode.unavailable)
    expect(e.hint).to.match(/pdhooks sandbox/)
  })

  it('a refusal carries the sandbox\'s own reason', async () => {
    nock(BASE).post('/sandbox/events').reply(400, {error: 'unknown object "dael"'})
    const e = await rejection(changeInSandbox(BASE, {}, 2000))
    expect(e.message).to.equal(`The sandbox at ${BASE} refused the change (400: unknown object "dael").`)
    expect(e.exit).to.equal(ExitCode.unexpected)
  })

  it('a 200 that is not JSON (not a sandbox) is not taken for a change', async () => {
    nock(BASE).post('/sandbox/events').reply(200, '<html>hello</html>', {'content-type': 'text/html'})
    const e = await rejection(changeInSandbox(BASE, {}, 2000))
    expect(e.message).to.equal(`The sandbox at ${BASE} refused the change (200 without JSON).`)
  })
})
