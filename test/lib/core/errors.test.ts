import {expect} from 'chai'

import {
  ExitCode, missingCreated, PdhooksError, worstExit,
} from '../../../src/lib/core/errors.js'

describe('PdhooksError.from', () => {
  it('keeps a PdhooksError as it is', () => {
    const e = new PdhooksError('Gone.', {code: 'not_found', exit: ExitCode.notFound, hint: 'List them.'})
    expect(PdhooksError.from(e)).to.equal(e)
  })

  it('turns anything else into a PdhooksError carrying its message (exit 1)', () => {
    const e = PdhooksError.from(new TypeError('boom'))
    expect(e).to.be.instanceOf(PdhooksError)
    expect([e.message, e.exit]).to.deep.equal(['boom', ExitCode.unexpected])
    expect(PdhooksError.from('plain').message).to.equal('plain')
  })
})

describe('missingCreated', () => {
  it('is an ambiguous bad response (exit 1) naming the service, the status, the host and what is missing', () => {
    const e = missingCreated('Pipeliner', 201, 'eu.pipeliner.example', 'webhook', 'List them.')
    expect([e.message, e.code, e.exit, e.status, e.hint]).to.deep.equal([
      'Pipeliner answered 201 from eu.pipeliner.example without the created webhook.', 'bad_response', ExitCode.unexpected, 201, 'List them.',
    ])
    expect(e.details).to.deep.equal({ambiguous: true})
  })
})

describe('worstExit: the exit code of a bulk operation some of whose items failed', () => {
  it('is the highest of the failures\' exit codes; a failure without one counts 1; never 0', () => {
    expect(worstExit([ExitCode.auth, ExitCode.unavailable, ExitCode.unexpected])).to.equal(ExitCode.unavailable)
    expect(worstExit([ExitCode.notFound, undefined])).to.equal(ExitCode.notFound)
    expect(worstExit([undefined])).to.equal(ExitCode.unexpected)
    expect(worstExit([0])).to.equal(ExitCode.unexpected)
    expect(worstExit([])).to.equal(ExitCode.unexpected)
    expect(worstExit(new Set([ExitCode.conflict, ExitCode.interrupted]))).to.equal(ExitCode.interrupted)
  })
})
