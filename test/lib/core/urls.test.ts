import {expect} from 'chai'

import {PdhooksError} from '../../../src/lib/core/errors.js'
import {
  checkTargetUrl, isSapHost, normalizeElementsUrl, normalizePipedriveUrl, normalizePipelinerUrl,
} from '../../../src/lib/core/urls.js'

const usage = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    expect(error).to.be.instanceOf(PdhooksError)
    expect((error as PdhooksError).exit).to.equal(2)
    return (error as PdhooksError).line
  }

  throw new Error('expected a usage error')
}

describe('base URLs', () => {
  it('Cloud Elements: default, aliases, hosts, full URLs', () => {
    expect(normalizeElementsUrl()).to.equal('https://api.cloud-elements.com/elements/api-v2')
    expect(normalizeElementsUrl('us')).to.equal('https://api.cloud-elements.com/elements/api-v2')
    expect(normalizeElementsUrl('eu')).to.equal('https://api.cloud-elements.co.uk/elements/api-v2')
    expect(normalizeElementsUrl('staging')).to.equal('https://staging.cloud-elements.com/elements/api-v2')
    expect(normalizeElementsUrl('sap-us2')).to.equal('https://api.openconnectors.us2.ext.hana.ondemand.com/elements/api-v2')
    expect(normalizeElementsUrl('sap-eu10')).to.equal('https://api.openconnectors.eu10.ext.hana.ondemand.com/elements/api-v2')
    expect(normalizeElementsUrl('sap-us10')).to.equal('https://api.openconnectors.us10.ext.hana.ondemand.com/elements/api-v2')
    expect(normalizeElementsUrl('api.openconnectors.ext.hanatrial.ondemand.com')).to.equal('https://api.openconnectors.ext.hanatrial.ondemand.com/elements/api-v2')
    expect(normalizeElementsUrl('https://api.cloud-elements.com/elements/api-v2/')).to.equal('https://api.cloud-elements.com/elements/api-v2')
    expect(normalizeElementsUrl('http://127.0.0.1:4010')).to.equal('http://127.0.0.1:4010/elements/api-v2')
  })

  it('Pipedrive: default, company domains, hosts, full URLs', () => {
    expect(normalizePipedriveUrl()).to.equal('https://api.pipedrive.com/v1')
    expect(normalizePipedriveUrl('acme')).to.equal('https://acme.pipedrive.com/api/v1')
    expect(normalizePipedriveUrl('acme.pipedrive.com')).to.equal('https://acme.pipedrive.com/api/v1')
    expect(normalizePipedriveUrl('api.pipedrive.com')).to.equal('https://api.pipedrive.com/v1')
    expect(normalizePipedriveUrl('https://acme.pipedrive.com/api/v1/')).to.equal('https://acme.pipedrive.com/api/v1')
    expect(normalizePipedriveUrl('http://localhost:4010')).to.equal('http://localhost:4010/v1')
    expect(normalizePipedriveUrl('http://127.0.0.1:4010/api/v1')).to.equal('http://127.0.0.1:4010/api/v1')
  })

  it('Pipeliner: needs the space', () => {
    expect(normalizePipelinerUrl('https://us-east.api.pipelinersales.com/api/v100/rest/spaces/abc/')).to.equal('https://us-east.api.pipelinersales.com/api/v100/rest/spaces/abc')
    expect(usage(() => normalizePipelinerUrl('https://us-east.api.pipelinersales.com'))).to.contain('space')
  })

  it('allows plain http only on loopback', () => {
    expect(usage(() => normalizePipedriveUrl('http://acme.pipedrive.com'))).to.contain('https')
    expect(usage(() => normalizeElementsUrl('http://api.cloud-elements.com'))).to.contain('loopback')
    expect(normalizePipedriveUrl('http://[::1]:4010')).to.equal('http://[::1]:4010/v1')
    expect(usage(() => normalizePipedriveUrl('ftp://x.example'))).to.contain('https')
  })

  it('recognises SAP hosts and checks target URLs', () => {
    expect(isSapHost('https://api.openconnectors.us2.ext.hana.ondemand.com/elements/api-v2')).to.equal(true)
    expect(isSapHost('https://api.openconnectors.ext.hanatrial.ondemand.com/elements/api-v2')).to.equal(true)
    expect(isSapHost('https://api.cloud-elements.com/elements/api-v2')).to.equal(false)
    expect(usage(() => checkTargetUrl('example.com/hook'))).to.contain('absolute')
    expect(checkTargetUrl('https://example.com/hook')).to.equal('https://example.com/hook')
  })
})
