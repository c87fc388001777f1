import {expect} from 'chai'

import {elementsBody} from '../../../src/lib/deliveries/build.js'
import {type Listener, type ListenerEvent, startListener} from '../../../src/lib/deliveries/listener.js'
import {detectDelivery} from '../../../src/lib/deliveries/recognition.js'
import {pipedriveSample} from '../../../src/lib/deliveries/samples.js'
import {signElements} from '../../../src/lib/deliveries/signatures.js'
import {post} from '../../support/receiver.js'

const KEY = 'ce-signature-key-1'

/** The same deal change as a Cloud Elements notification in each of its two documented bodies. */
function notification(form: 'message' | 'response'): Buffer {
  const [e] = pipedriveSample('1.0', {action: 'updated', id: 42, object: 'deal'})
  return Buffer.from(JSON.stringify(elementsBody('1.0', e, {eventId: 'evt-7', form, instanceId: 20_931})))
}

describe('listen: recognition of the Cloud Elements bodies', () => {
  it('recognises the message form and the response form alike', () => {
    for (const form of ['message', 'response'] as const) {
      const d = detectDelivery(JSON.parse(notification(form).toString()), {'elements-webhook-id': 'hook-1'})
      expect(d.source, form).to.equal('elements')
      expect(d.events, form).to.deep.equal([{
        action: 'updated', attempt: null, eventId: 'evt-7', object: 'opportunities', objectId: '42', webhookId: 'hook-1',
      }])
    }
  })

  it('the response form is the documented one: eventId, instanceId, notificationId, response.events', () => {
    const body = JSON.parse(notification('response').toString())
    expect(Object.keys(body).sort()).to.deep.equal(['eventId', 'instanceId', 'notificationId', 'response'])
    expect(body.response.events[0]).to.include({eventType: 'UPDATED', objectId: '42', objectType: 'opportunities'})
  })

  it('does not take a body with only a response for a notification', () => {
    expect(detectDelivery({response: {events: []}}).source).to.equal('unknown')
    expect(detectDelivery({eventId: 1, response: {events: 'no'}}).source).to.equal('unknown')
  })

  describe('verification', () => {
    let listener: Listener

    afterEach(async () => listener?.close())

    it('verifies the signature of either form, and refuses a wrong one (401)', async () => {
      listener = await startListener({elementsKey: KEY, port: 0})
      const events: ListenerEvent[] = []
      listener.on('event', e => events.push(e))
      for (const form of ['message', 'response'] as const) {
        const body = notification(form)
        expect(await post(listener.url, body, {'elements-webhook-signature': signElements(KEY, body)}), form).to.equal(200)
        expect(await post(listener.url, body, {'elements-webhook-signature': signElements('another-key', body)}), form).to.equal(401)
      }

      expect(events.map(e => [e.source, e.action, e.objectId, e.verified])).to.deep.equal([
        ['elements', 'updated', '42', true],
        ['elements', 'updated', '42', true],
      ])
    })
  })
})
