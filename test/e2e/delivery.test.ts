// e2e: the whole chain. setup aims Pipedrive webhooks at a Cloud Elements instance whose callback URL is a local
// receiver; a deal changes in the sandbox; the receiver gets the normalized, signed notification; webhook list shows the
// delivery's health.
import {expect} from 'chai'

import {verifyBasicAuth, verifyElements} from '../../src/lib/deliveries/signatures.js'
import {type Receiver, receiver} from '../support/receiver.js'
import {
  explain, HOOK_PASSWORD, PD_LOGIN, SIGNATURE_KEY, useSandbox,
} from './helpers.js'

describe('e2e: delivery chain', () => {
  const e2e = useSandbox()
  let rx: Receiver

  beforeEach(async () => {
    rx = await receiver({path: '/ce'})
  })

  afterEach(async () => {
    await rx.close()
  })

  const dealChange = {
    object: 'deal', action: 'change', id: 1, data: {
      id: 1, title: 'Big deal', value: 5000, status: 'open',
    }, previous: {value: 1000},
  }

  it('a deal change reaches the app as a signed Cloud Elements notification; webhook list shows ok / 200', async function () {
    this.timeout(30_000)
    const setup = await e2e.run([
      'setup',
      '--name',
      'chain',
      '--callback-url',
      rx.url,
      '--signature-key',
      SIGNATURE_KEY,
      ...PD_LOGIN,
      '--event',
      '*.deal',
      '--yes',
      '--json',
    ])
    expect(setup.code, explain(setup)).to.equal(0)
    const instanceId = setup.json().instance.id

    const sent = await e2e.api('POST', '/sandbox/events', dealChange)
    expect(sent.status).to.equal(200)
    expect(sent.body.deliveries.map((d: any) => d.status)).to.deep.equal([200])

    const [got] = await rx.waitFor(1)
    expect(got.method).to.equal('POST')
    expect(got.path).to.equal('/ce')
    const {message} = got.json
    expect(String(message.instanceId)).to.equal(String(instanceId))
    expect(message.elementKey).to.equal('pipedrive')
    expect(message.events).to.have.length(1)
    expect(message.events[0]).to.deep.include({objectType: 'opportunities', elementKey: 'pipedrive'})
    expect(String(message.events[0].objectId)).to.equal('1')
    expect(message.events[0].eventType).to.match(/^UPDATED$/i)
    const signature = got.headers['elements-webhook-signature'] as string
    expect(signature, 'Elements-Webhook-Signature').to.be.a('string')
    expect(verifyElements(SIGNATURE_KEY, got.raw, signature)).to.equal(true)
    expect(verifyElements('another-key-0123456789', got.raw, signature)).to.equal(false)

    const list = await e2e.run(['webhook', 'list', '--json'])
    expect(list.code, explain(list)).to.equal(0)
    const [hook] = list.json().webhooks
    expect(hook).to.deep.include({lastStatus: 200, health: 'ok', version: '1.0'})
    expect(hook.lastDelivery).to.be.a('string')
    const human = await e2e.run(['webhook', 'list'])
    expect(human.stdout).to.match(/\b200\s+ok\b/)

    // a person change does not match *.deal: nothing more arrives
    const other = await e2e.api('POST', '/sandbox/events', {object: 'person', action: 'added', id: 7})
    expect(other.body.deliveries).to.deep.equal([])
  })

  it('a direct Pipedrive webhook delivers with basic auth; a failing receiver shows as failing', async function () {
    this.timeout(30_000)
    const add = await e2e.run(['webhook', 'add', 'change.deal', '--url', rx.url, '--http-auth-user', 'hooks', '--http-auth-password', HOOK_PASSWORD, '--json'])
    expect(add.code, explain(add)).to.equal(0)
    expect(add.json().webhook.httpAuthPassword).to.equal(`${HOOK_PASSWORD.slice(0, 4)}…`)

    await e2e.api('POST', '/sandbox/events', dealChange)
    const [got] = await rx.waitFor(1)
    expect(verifyBasicAuth(got.headers.authorization, 'hooks', HOOK_PASSWORD)).to.equal(true)
    expect(JSON.stringify(got.json)).to.include('Big deal') // v2.0 payload with the deal's data
    expect(got.json.meta).to.deep.include({action: 'change', entity: 'deal'})

    rx.status = 500
    const failed = await e2e.api('POST', '/sandbox/events', dealChange)
    expect(failed.body.deliveries.map((d: any) => d.status)).to.deep.equal([500])
    const list = await e2e.run(['webhook', 'list', '--unhealthy', '--json'])
    expect(list.code, explain(list)).to.equal(0)
    expect(list.json().webhooks.map((w: any) => [w.lastStatus, w.health])).to.deep.equal([[500, 'failing']])
  })
})
