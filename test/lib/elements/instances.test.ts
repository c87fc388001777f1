import {expect} from 'chai'

import {
  buildInstanceBody, collectInstanceSpec, parseConfigEntries, pollerConfiguration, viewInstance, webhooksForInstance,
} from '../../../src/lib/elements/instances.js'
import {webhook} from '../../support/fixtures.js'

const CE = 'https://api.cloud-elements.com/elements/api-v2'
const SAP = 'https://api.openconnectors.us2.ext.hana.ondemand.com/elements/api-v2'

describe('instances', () => {
  it('builds the seed body for webhook events', () => {
    expect(buildInstanceBody({
      callbackUrl: 'https://app.example.com/ce', email: 'ops@example.com', events: 'webhook', name: 'crm', password: 'pw', tags: ['prod'],
    }, CE)).to.deep.equal({
      configuration: {
        'event.notification.callback.url': 'https://app.example.com/ce',
        'event.notification.enabled': 'true',
        'event.vendor.type': 'webhook',
        'pipedrive.email': 'ops@example.com',
        'pipedrive.password': 'pw',
      },
      element: {key: 'pipedrive'},
      name: 'crm',
      tags: ['prod'],
    })
  })

  it('builds the polling body with Cloud Elements date keys', () => {
    const body = buildInstanceBody({
      callbackUrl: 'https://a.example/ce', email: 'e@x', events: 'polling', name: 'p', password: 'pw',
    }, CE)
    expect(body.configuration['event.poller.refresh_interval']).to.equal('15')
    expect(body.configuration['event.vendor.type']).to.equal('polling')
    const poller = body.configuration['event.poller.configuration'] as any
    expect(Object.keys(poller)).to.deep.equal(['accounts', 'contacts', 'opportunities'])
    expect(poller.contacts).to.deep.equal({
      datesConfiguration: {
        createdDateField: 'add_time', createdDateFormat: 'yyyy-MM-dd HH:mm:ss', updatedDateField: 'update_time', updatedDateFormat: 'yyyy-MM-dd HH:mm:ss',
      },
      idField: 'id',
      // eslint-disable-next-line no-template-curly-in-string
      url: "/hubs/crm/contacts?where=update_time>'${date:yyyy-MM-dd HH:mm:ss}'",
    })
  })

  it('uses the SAP Open Connectors date keys on SAP hosts', () => {
    const poller = pollerConfiguration(['opportunities'], SAP) as any
    expect(poller.opportunities.datesConfiguration).to.deep.equal({
      createdAtField: 'add_time', createdAtFormat: 'yyyy-MM-dd HH:mm:ss', updatedAtField: 'update_time', updatedAtFormat: 'yyyy-MM-dd HH:mm:ss',
    })
    const body = buildInstanceBody({
      callbackUrl: 'https://a.example/ce', email: 'e@x', events: 'polling', name: 'p', password: 'pw', poll: ['contacts'], pollInterval: 5,
    }, SAP)
    expect(Object.keys(body.configuration['event.poller.configuration'] as object)).to.deep.equal(['contacts'])
    expect(body.configuration['event.poller.refresh_interval']).to.equal('5')
  })

  it('events none; signature key; --config overrides anything; masked values are never re-sent', () => {
    const body = buildInstanceBody({
      config: {'event.notification.enabled': 'true', 'pipedrive.api.token': '********', 'x.y': {a: 1}},
      email: 'e@x', events: 'none', name: 'n', password: 'pw', signatureKey: 'sig-key',
    }, CE)
    expect(body.configuration).to.deep.equal({
      'event.notification.enabled': 'true', 'event.notification.signature.key': 'sig-key', 'pipedrive.email': 'e@x', 'pipedrive.password': 'pw', 'x.y': {a: 1},
    })
  })

  it('parses --config entries (JSON objects parsed) and rejects bad ones', () => {
    expect(parseConfigEntries(['a=b=c', 'o={"x":[1]}', 'e='])).to.deep.equal({a: 'b=c', e: '', o: {x: [1]}})
    expect(() => parseConfigEntries(['novalue'])).to.throw(/key=value/)
    expect(() => parseConfigEntries(['o={bad'])).to.throw(/Invalid JSON in --config o/)
  })

  it('names the missing flags off a terminal', async () => {
    let err: any
    try {
      await collectInstanceSpec({events: 'webhook'})
    } catch (error) {
      err = error
    }

    expect(err.exit).to.equal(2)
    expect(err.message).to.equal('Missing --name, --pipedrive-email, --pipedrive-password, --callback-url.')
    expect(err.hint).to.contain('PDHOOKS_PIPEDRIVE_EMAIL')
    const spec = await collectInstanceSpec({config: ['pipedrive.api.token=t'], events: 'none', name: 'x'})
    expect(spec.name).to.equal('x')
  })

  it('views mask secrets and accept both tag shapes', () => {
    const inst = {
      configuration: {'event.notification.callback.url': 'https://a.example', 'pipedrive.api.token': 'tok-1234567890abc', 'pipedrive.password': '********'},
      element: {key: 'pipedrive'}, id: 20_931, name: 'x', tags: [{id: 1, name: 'prod'}, 'dev'], token: 'bHtCEV5ufn8BB6FaXn/fBxs2LBqpHvE4A0=',
    }
    const v = viewInstance(inst as any, CE)
    expect(v.tags).to.deep.equal(['prod', 'dev'])
    expect(v.token).to.equal('bHtC…')
    expect(v.configuration).to.deep.include({'pipedrive.api.token': 'tok-…', 'pipedrive.password': '****'})
    expect(v.callbackUrl).to.equal(`${CE}/events/pipedrive/MjA5MzE=`)
    expect(v.events).to.equal('none')
  })

  it('finds the webhooks aimed at an instance on any host', () => {
    const hooks = [
      webhook({id: 1, subscription_url: `${CE}/events/pipedrive/MjA5MzE=`}),
      webhook({id: 2, subscription_url: `${SAP}/events/pipedrive/MjA5MzE%3D`}),
      webhook({id: 3, subscription_url: `${CE}/events/pipedrive/MTIzNA==`}),
      webhook({id: 4, subscription_url: 'https://example.com/MjA5MzE='}),
    ]
    expect(webhooksForInstance(hooks as any, 20_931).map(w => w.id)).to.deep.equal([1, 2])
  })
})

describe('setup resume command', () => {
  it('repeats the flags, uses --instance once it exists, and never repeats a secret', async () => {
    const {resumeCommand} = await import('../../../src/lib/workflows/setup.js')
    const {instanceCreateFlags, secretFlagEnv} = await import('../../../src/lib/cli/flags.js')
    const cli = {instanceFlags: Object.keys(instanceCreateFlags), secretEnv: secretFlagEnv}
    const flags = {
      'callback-url': 'https://app.example.com/ce', event: ['*.deal'], events: 'webhook', 'http-auth-password': 'secret-pw', 'http-auth-user': 'hooks',
      name: 'crm', 'pipedrive-password': 'pw', profile: 'prod', timeout: 10, 'user-id': 3, yes: true,
    }
    expect(resumeCommand(flags, {
      ...cli, events: ['*.deal', "it's"], instanceId: 7, json: false,
    })).to.deep.equal({
      command: "pdhooks setup --instance 7 --event '*.deal' --event 'it'\\''s' --http-auth-password \"$PDHOOKS_HTTP_AUTH_PASSWORD\" --http-auth-user hooks --user-id 3 --profile prod --timeout 10 --yes",
      variables: [{for: '--http-auth-password', name: 'PDHOOKS_HTTP_AUTH_PASSWORD'}],
    })
    const r = resumeCommand({...flags, config: ['pipedrive.api.token=tok', "a.b=it's", 'event.notification.signature.key=k$`"x']}, {...cli, events: ['*.*'], json: true})
    expect(r.command).to.equal("pdhooks setup --event '*.*' --callback-url https://app.example.com/ce --http-auth-password \"$PDHOOKS_HTTP_AUTH_PASSWORD\" --http-auth-user hooks --name crm --pipedrive-password \"$PDHOOKS_PIPEDRIVE_PASSWORD\" --user-id 3 --config \"pipedrive.api.token=$PDHOOKS_CONFIG_PIPEDRIVE_API_TOKEN\" --config 'a.b=it'\\''s' --config \"event.notification.signature.key=$PDHOOKS_CONFIG_EVENT_NOTIFICATION_SIGNATURE_KEY\" --profile prod --timeout 10 --json --yes")
    expect(r.variables.map(v => v.name)).to.deep.equal(['PDHOOKS_HTTP_AUTH_PASSWORD', 'PDHOOKS_PIPEDRIVE_PASSWORD', 'PDHOOKS_CONFIG_PIPEDRIVE_API_TOKEN', 'PDHOOKS_CONFIG_EVENT_NOTIFICATION_SIGNATURE_KEY'])
    expect(r.command).not.to.match(/tok\b|k\$`/)
  })
})
