import {expect} from 'chai'

import {callbackUrl, isElementsEventsUrl, parseCallbackUrl} from '../../../src/lib/elements/callback-url.js'

describe('callback URLs', () => {
  it('builds the documented URL (instance 20931 → MjA5MzE=)', () => {
    expect(callbackUrl('https://api.cloud-elements.com/elements/api-v2', 20_931)).to.equal('https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE=')
    expect(callbackUrl('https://api.openconnectors.us2.ext.hana.ondemand.com/elements/api-v2/', '1234'))
    .to.equal('https://api.openconnectors.us2.ext.hana.ondemand.com/elements/api-v2/events/pipedrive/MTIzNA==')
  })

  it('decodes an id from any host, padded, url-encoded or url-safe', () => {
    for (const url of [
      'https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE=',
      'https://api.cloud-elements.co.uk/elements/api-v2/events/pipedrive/MjA5MzE%3D',
      'http://127.0.0.1:4010/elements/api-v2/events/pipedrive/MjA5MzE=/',
      'https://staging.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE',
    ]) {
      expect(parseCallbackUrl(url)?.instanceId, url).to.equal('20931')
    }

    expect(parseCallbackUrl('https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE=')).to.deep.equal({
      base: 'https://api.cloud-elements.com/elements/api-v2', element: 'pipedrive', host: 'api.cloud-elements.com', instanceId: '20931',
    })
  })

  it('round-trips', () => {
    for (const id of [1, 42, 20_931, 123_456_789]) {
      expect(parseCallbackUrl(callbackUrl('https://x.example/elements/api-v2', id))?.instanceId).to.equal(String(id))
    }
  })

  it('is null for anything else', () => {
    expect(parseCallbackUrl('https://example.com/hook')).to.equal(null)
    expect(parseCallbackUrl('not a url')).to.equal(null)
    expect(parseCallbackUrl('https://api.cloud-elements.com/elements/api-v2/events/pipedrive/aGVsbG8=')).to.equal(null) // "hello"
    expect(isElementsEventsUrl('https://example.com/hook')).to.equal(false)
    expect(isElementsEventsUrl('https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE=')).to.equal(true)
  })
})
