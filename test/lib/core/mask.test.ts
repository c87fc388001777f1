import {expect} from 'chai'

import {
  forgetSecrets, mask, maskDeep, redactHeaders, redactUrl, registerSecret, scrub,
} from '../../../src/lib/core/mask.js'

describe('masking', () => {
  afterEach(() => forgetSecrets())

  it('shows the first 4 characters of long secrets, **** for short ones', () => {
    expect(mask('0123456789abcdef')).to.equal('0123…')
    expect(mask('short')).to.equal('****')
    expect(mask('12345678901')).to.equal('****')
    expect(mask('123456789012')).to.equal('1234…')
    expect(mask()).to.equal(null)
  })

  it('scrubs registered secrets from any text', () => {
    registerSecret('supersecrettoken123')
    expect(scrub('token=supersecrettoken123 end')).to.equal('token=supe… end')
  })

  it('masks secret-looking keys deeply', () => {
    const out = maskDeep({a: {http_auth_password: 'pppppppppppppp', token: 'short', url: 'https://x'}})
    expect(out).to.deep.equal({a: {http_auth_password: 'pppp…', token: '****', url: 'https://x'}})
  })

  it('redacts auth headers and secret query parameters', () => {
    expect(redactHeaders({authorization: 'User abc, Organization def', 'x-api-token': 'abcdefghijklmnop', accept: 'x'}))
    .to.deep.equal({accept: 'x', authorization: 'User ****', 'x-api-token': 'abcd…'})
    expect(redactUrl('https://x/v1/webhooks?api_token=secret&a=1')).to.equal('https://x/v1/webhooks?api_token=****&a=1')
  })
})
