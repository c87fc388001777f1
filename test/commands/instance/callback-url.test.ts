import {expect} from 'chai'

import type {CallbackUrlResult} from '../../../src/commands/instance/callback-url.js'

import {ConfigStore} from '../../../src/lib/core/config.js'
import {run} from '../../support/run.js'

describe('instance callback-url', () => {
  it('prints the documented URL offline, with no credentials', async () => {
    const r = await run(['instance:callback-url', '20931'])
    expect(r.exit).to.equal(0)
    expect(r.stdout.trim()).to.equal('https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE=')
  })

  it('--json, aliases and --element', async () => {
    const r = await run(['instance:callback-url', '20931', '--elements-url', 'sap-us2', '--element', 'pipedrivev2', '--json'])
    expect(r.json<CallbackUrlResult>()).to.deep.equal({
      element: 'pipedrivev2',
      encodedId: 'MjA5MzE=',
      instanceId: '20931',
      url: 'https://api.openconnectors.us2.ext.hana.ondemand.com/elements/api-v2/events/pipedrivev2/MjA5MzE=',
    })
  })

  it('uses PDHOOKS_ELEMENTS_URL', async () => {
    const r = await run(['instance:callback-url', '7'], {PDHOOKS_ELEMENTS_URL: 'http://127.0.0.1:4010'})
    expect(r.stdout.trim()).to.equal('http://127.0.0.1:4010/elements/api-v2/events/pipedrive/Nw==')
  })

  it("defaults to the profile's current instance", async () => {
    const store = new ConfigStore(process.env.PDHOOKS_CONFIG_DIR!)
    await store.updateProfile('cb', p => ({...p, instance: {elementsUrl: 'https://api.cloud-elements.co.uk/elements/api-v2', id: 1234}}))
    const r = await run(['instance:callback-url', '--profile', 'cb'])
    expect(r.stdout.trim()).to.equal('https://api.cloud-elements.co.uk/elements/api-v2/events/pipedrive/MTIzNA==')
    await store.removeProfile('cb')
  })

  it('errors: no id and no current instance, a non-numeric id, a bad URL', async () => {
    let r = await run(['instance:callback-url', '--profile', 'empty', '--json'])
    expect(r.exit).to.equal(2)
    expect(r.json().error.message).to.contain('no current instance')
    r = await run(['instance:callback-url', 'abc'])
    expect(r.exit).to.equal(2)
    r = await run(['instance:callback-url', '1', '--elements-url', 'http://example.com'])
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('https')
  })
})
