import {expect} from 'chai'

import {ExitCode, PdhooksError} from '../../../src/lib/core/errors.js'

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
