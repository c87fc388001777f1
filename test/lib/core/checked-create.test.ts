import {expect} from 'chai'

import {createChecked} from '../../../src/lib/core/checked-create.js'
import {PdhooksError} from '../../../src/lib/core/errors.js'
import {rejection} from '../../support/usage.js'

const answered = (status: number, waitMs = 0) => new PdhooksError(`Svc is unavailable (${status} from h).`, {
  details: {
    ambiguous: true, answered: true, waitMs,
  },
  exit: 6,
  status,
})
const timeout = () => new PdhooksError('Svc is unavailable: no answer from h within 1 s.', {code: 'timeout', details: {ambiguous: true}, exit: 6})

describe('createChecked', () => {
  it('returns what the first create made, without a lookup', async () => {
    let looked = 0
    const r = await createChecked({
      check: 'x list', create: async () => 1, async find(): Promise<number | undefined> {
        looked++
        return undefined
      }, what: 'thing',
    })
    expect(r).to.deep.equal({attempts: 1, recovered: false, value: 1})
    expect(looked).to.equal(0)
  })

  it('a create answered 503 that the service applied is found, never sent again', async () => {
    let sent = 0
    const r = await createChecked({
      check: 'x list',
      async create() {
        sent++
        throw answered(503)
      },
      find: async () => 'made',
      what: 'thing',
    })
    expect(r).to.deep.equal({attempts: 1, recovered: true, value: 'made'})
    expect(sent).to.equal(1)
  })

  it('resends only after a lookup shows nothing, waiting for the answer\'s Retry-After', async () => {
    const events: string[] = []
    const r = await createChecked({
      check: 'x list',
      async create() {
        events.push('create')
        if (events.filter(e => e === 'create').length === 1) throw answered(429, 30)
        return 'second'
      },
      async find(): Promise<string | undefined> {
        events.push('find')
        return undefined
      },
      onRetry: (attempt, waitMs) => events.push(`wait ${waitMs}`),
      what: 'thing',
    })
    expect(r).to.deep.equal({attempts: 2, recovered: false, value: 'second'})
    expect(events).to.deep.equal(['create', 'find', 'wait 30', 'create'])
  })

  it('gives up after the retries, saying the object was not created (it looked each time)', async () => {
    let found = 0
    const e = await rejection(createChecked({
      async create() {
        throw answered(503)
      },
      check: 'x list',
      async find() {
        found++
      },
      retries: 2,
      what: 'thing',
    }))
    expect(found).to.equal(3)
    expect(e.message).to.equal('Svc is unavailable (503 from h) (3 attempts, each looked up before the next); the thing was not created.')
    expect(e.exit).to.equal(6)
    expect(e.details).to.include({attempts: 3, outcome: 'not-created'})
  })

  it('when the lookup fails too, never claims "not created": it may exist, and says how to check', async () => {
    let sent = 0
    const e = await rejection(createChecked({
      check: 'pdhooks thing list',
      async create() {
        sent++
        throw answered(503)
      },
      async find() {
        throw new PdhooksError('Svc is unavailable (503 from h) after 4 attempts.')
      },
      what: 'thing',
    }))
    expect(sent).to.equal(1)
    expect(e.message).to.contain('it is unknown whether the thing was created').and.contain('looking it up failed too')
    expect(e.message).not.to.contain('not created')
    expect(e.line).to.contain('Check with "pdhooks thing list" before trying again.')
    expect(e.code).to.equal('outcome_unknown')
    expect(e.details?.outcome).to.equal('unknown')
  })

  it('after a timeout with nothing found, does not resend (the request may still be in progress)', async () => {
    let sent = 0
    const e = await rejection(createChecked({
      check: 'pdhooks thing list',
      async create() {
        sent++
        throw timeout()
      },
      async find() {},
      what: 'thing',
    }))
    expect(sent).to.equal(1)
    expect(e.message).to.contain('no thing was found afterwards, but the service may still be processing the request')
    expect(e.code).to.equal('timeout')
    expect(e.details?.outcome).to.equal('not-found-yet')
  })

  it('passes errors that are not ambiguous through, without a lookup', async () => {
    let looked = false
    const e = await rejection(createChecked({
      check: 'x',
      async create() {
        throw new PdhooksError('bad request', {exit: 2, status: 400})
      },
      async find() {
        looked = true
      },
      what: 'thing',
    }))
    expect(e.message).to.equal('bad request')
    expect(looked).to.equal(false)
  })
})
