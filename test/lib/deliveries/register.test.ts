import {expect} from 'chai'
import nock from 'nock'

import {cleanupLines, TemporaryWebhooks} from '../../../src/lib/deliveries/register.js'
import {ownMarker, temporaryMarker} from '../../../src/lib/deliveries/temporary.js'
import {PipedriveClient} from '../../../src/lib/pipedrive/client.js'
import {parseEvent} from '../../../src/lib/pipedrive/events.js'
import {PipelinerClient} from '../../../src/lib/pipeliner/client.js'
import {assertNockDone, cleanNock} from '../../support/fakes.js'
import {webhook} from '../../support/fixtures.js'

const PD = 'https://api.pipedrive.com'
const PL = 'https://eu-central.api.pipelinersales.com'
const PL_PATH = '/api/v100/rest/spaces/s1/entities/Webhooks'
const URL_ = 'https://abc.trycloudflare.com/0123456789abcdef01234567'
const DEAD = 99_999_999
const STARTED = '2026-12-01T10:00:00.000Z'

const pdClient = () => new PipedriveClient({auth: {token: 'pd-token-0123456789'}, baseUrl: `${PD}/v1`, userAgent: 'test'})
const plClient = () => new PipelinerClient({
  baseUrl: `${PL}/api/v100/rest/spaces/s1`, password: 'pl-password-0123456789', userAgent: 'test', username: 'u',
})

function make(over: {pipeliner?: boolean; pipedrive?: string[]} = {}) {
  const lines: string[] = []
  const marker = ownMarker()
  const hooks = new TemporaryWebhooks({
    marker,
    notify: l => lines.push(l),
    pipedrive: over.pipedrive ? {auth: {password: 'generated-password-0123', user: 'pdhooks'}, client: pdClient(), events: over.pipedrive.map(e => parseEvent(e))} : undefined,
    pipeliner: over.pipeliner ? {client: plClient(), events: ['Account.*'], signature: '01234567-abcd-dcba-ffff-000000000000'} : undefined,
    url: URL_,
  })
  return {
    hooks, lines, marker, text: temporaryMarker(marker),
  }
}

describe('deliveries/register: temporary webhooks of listen --register', () => {
  beforeEach(() => {
    process.env.PDHOOKS_RETRY_BASE_MS = '1'
  })

  afterEach(() => {
    delete process.env.PDHOOKS_RETRY_BASE_MS
    cleanNock()
  })

  it('sweep: deletes only this host\'s leftovers whose process is gone; says which others it leaves and how to delete them', async () => {
    const {hooks, lines, marker} = make({pipedrive: ['*.deal']})
    const gone = temporaryMarker({host: marker.host, pid: DEAD, started: STARTED})
    nock(PD).get('/v1/webhooks').reply(200, {
      data: [
        webhook({id: 1, name: gone}),
        webhook({id: 2, name: temporaryMarker({host: 'other-host', pid: DEAD, started: STARTED})}),
        webhook({id: 3, name: temporaryMarker({host: marker.host, pid: process.pid, started: STARTED})}),
        webhook({
          id: 4, name: temporaryMarker({
            host: marker.host, kept: true, pid: DEAD, started: STARTED,
          }),
        }),
        webhook({id: 5, name: 'pdhooks-listen by hand'}),
      ],
      success: true,
    })
    nock(PD).delete('/v1/webhooks/1').reply(200, {success: true})
    await hooks.sweep()
    assertNockDone()
    expect(hooks.swept.map(s => s.id)).to.deep.equal(['1'])
    expect(lines.join('\n')).to.include(`Swept Pipedrive webhook 1 (change.deal (v2.0) → https://example.com/hook): left by pdhooks listen on ${marker.host} (pid ${DEAD}, started ${STARTED}), whose process is gone.`)
    expect(lines.join('\n')).to.include('Pipedrive webhook 2 (change.deal (v2.0) → https://example.com/hook) was left by pdhooks listen on other-host')
    expect(lines.join('\n')).to.include('If it is over: pdhooks webhook delete 2 --yes')
    expect(lines.join('\n')).to.include(`Pipedrive webhook 3 belongs to pdhooks listen on ${marker.host} (pid ${process.pid}`)
    expect(lines.join('\n')).not.to.match(/webhook [45]\b/)
  })

  it('sweep: a leftover that cannot be deleted is a warning with the command, not a failure', async () => {
    const {hooks, lines, marker} = make({pipedrive: ['*.deal']})
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 1, name: temporaryMarker({host: marker.host, pid: DEAD, started: STARTED})})]})
    nock(PD).delete('/v1/webhooks/1').reply(403, {error: 'Forbidden', success: false})
    await hooks.sweep()
    expect(lines.join('\n')).to.match(/Warning: could not delete the leftover Pipedrive webhook 1 .*Delete it with: pdhooks webhook delete 1 --yes/)
  })

  it('quota: the places needed by every event are checked before anything is created (exit 5, no POST)', async () => {
    const {hooks} = make({pipedrive: ['*.deal', '*.person']})
    nock(PD).get('/v1/webhooks').reply(200, {data: Array.from({length: 39}, (_, i) => webhook({id: i + 1, name: 'x'}))})
    nock(PD).get('/v1/users/me').reply(200, {data: {id: 7}})
    await hooks.sweep()
    const error: any = await hooks.register().catch(error_ => error_)
    expect(error.exit).to.equal(5)
    expect(error.message).to.equal('Webhook limit: user 7 has 39 webhooks and --register needs 2 more (Pipedrive allows 40 per user). Nothing was registered.')
    expect(hooks.made).to.deep.equal([])
    assertNockDone()
  })

  it('registers with the marker as the name and the auth; a failure half-way leaves what was made for the cleanup, which also finds a lost create by its marker', async () => {
    const {hooks, text} = make({pipedrive: ['*.deal', 'change.person']})
    const sent: any[] = []
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    await hooks.sweep()
    nock(PD).post('/v1/webhooks', b => sent.push(b) > 0).reply(201, {data: webhook({event_action: '*', id: 11, name: text}), success: true})
    nock(PD).post('/v1/webhooks', b => sent.push(b) > 0).reply(400, {errors: {subscription_url: ['invalid or non-reachable URL']}, success: false})
    const error: any = await hooks.register().catch(error_ => error_)
    expect(error.exit).to.equal(2)
    expect(sent[0]).to.deep.equal({
      event_action: '*', event_object: 'deal', http_auth_password: 'generated-password-0123', http_auth_user: 'pdhooks', name: text, subscription_url: URL_, version: '2.0',
    })
    expect(hooks.made.map(m => m.id)).to.deep.equal(['11'])
    // at cleanup the server shows one more webhook with this run's marker (a create whose answer was lost)
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 11, name: text}), webhook({id: 12, name: text}), webhook({id: 13, name: 'pdhooks-listen other 1 2026-12-01T10:00:00.000Z'})]})
    nock(PD).delete('/v1/webhooks/11').reply(200, {success: true})
    nock(PD).delete('/v1/webhooks/12').reply(404, {success: false})
    const r = await hooks.cleanup()
    assertNockDone()
    expect(r.deleted.map(d => d.id)).to.deep.equal(['11', '12'])
    expect(r.failed).to.deep.equal([])
    expect(hooks.made).to.deep.equal([])
    expect(cleanupLines(r)).to.deep.equal(['Deleted 2 temporary webhooks (Pipedrive 11, 12).'])
  })

  it('cleanup: the list failing does not stop the known deletions, and is said; a failed delete is named with the command', async () => {
    const {hooks, text} = make({pipedrive: ['*.deal'], pipeliner: true})
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PL).get(PL_PATH).query(true).reply(200, {data: [], page_info: {has_next_page: false}, success: true})
    await hooks.sweep()
    nock(PD).post('/v1/webhooks').reply(201, {data: webhook({event_action: '*', id: 21, name: text})})
    nock(PL).get(PL_PATH).query(true).reply(200, {data: [], success: true})
    let plBody: any
    nock(PL).post(PL_PATH, b => {
      plBody = b
      return true
    }).reply(201, {data: {events: ['Account.*'], id: 'aaaaaaaa-0000-4000-8000-000000000001', url: URL_}, success: true})
    await hooks.register()
    expect(plBody).to.deep.equal({
      events: ['Account.*'], insecure_ssl: false, options: {skip_keys: [text]}, signature: '01234567-abcd-dcba-ffff-000000000000', url: URL_,
    })
    nock(PD).get('/v1/webhooks').reply(400, {error: 'bad', success: false})
    nock(PD).delete('/v1/webhooks/21').reply(200, {success: true})
    nock(PL).get(PL_PATH).query(true).reply(200, {data: [], success: true})
    nock(PL).delete(`${PL_PATH}/aaaaaaaa-0000-4000-8000-000000000001`).reply(403, {message: 'Forbidden', name: 'ERROR_FORBIDDEN', success: false})
    const r = await hooks.cleanup()
    assertNockDone()
    expect(r.deleted.map(d => d.id)).to.deep.equal(['21'])
    expect(r.failed.map(f => f.id)).to.deep.equal(['aaaaaaaa-0000-4000-8000-000000000001'])
    const lines = cleanupLines(r)
    expect(lines[0]).to.equal('Deleted 1 temporary webhook (Pipedrive 21).')
    expect(lines[1]).to.match(/^Warning: could not delete 1 temporary Pipeliner webhook \(aaaaaaaa-0000-4000-8000-000000000001: .*Forbidden.*\)\. Delete it with: pdhooks pipeliner webhook delete aaaaaaaa-0000-4000-8000-000000000001 --yes$/)
    expect(lines[2]).to.match(/^Warning: could not list the Pipedrive webhooks to look for others of this run/)
  })

  it('cleanup stopped by a signal before it starts: nothing more is sent, everything is reported not deleted', async () => {
    const {hooks, text} = make({pipedrive: ['*.deal']})
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    await hooks.sweep()
    nock(PD).post('/v1/webhooks').reply(201, {data: webhook({event_action: '*', id: 31, name: text})})
    await hooks.register()
    const stop = new AbortController()
    stop.abort()
    const r = await hooks.cleanup(stop.signal)
    expect(r.deleted).to.deep.equal([])
    expect(r.failed.map(f => f.id)).to.deep.equal(['31'])
    expect(cleanupLines(r)[0]).to.include('Delete it with: pdhooks webhook delete 31 --yes')
  })
})
