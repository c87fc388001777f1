import {expect} from 'chai'
import nock from 'nock'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {assertNockDone, cleanNock} from '../support/fakes.js'
import {
  PD, pdEnv, TOKEN, webhook,
} from '../support/fixtures.js'
import {receiver, type Receiver} from '../support/receiver.js'
import {run} from '../support/run.js'

const SINCE = '2026-11-30T10:00:00Z'
const UNTIL = '2026-11-30T12:00:00Z'
const ME = {data: {company_domain: 'acme', company_id: 99, id: 7}, success: true}

const deal = (id: number, update: string, add = '2026-11-01T09:00:00Z') => ({
  add_time: add, id, title: `Deal ${id}`, update_time: update,
})
/** A journal line of a v2 delivery of deal `id`. */
const entry = (id: number, timestamp: string) => JSON.stringify({
  body: JSON.stringify({
    data: {id}, meta: {
      action: 'change', entity: 'deal', entity_id: String(id), timestamp,
    },
  }), headers: {}, id: `e${id}`, method: 'POST', path: '/', source: 'pipedrive-v2', time: timestamp,
})
const page = (data: unknown[], next: null | string = null) => ({additional_data: {next_cursor: next}, data, success: true})

describe('backfill', () => {
  let rec: Receiver
  let env: Record<string, string>

  beforeEach(async () => {
    rec = await receiver({path: '/'})
    // each test its own config folder: progress files never leak between tests
    env = {...pdEnv, PDHOOKS_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'pdhooks-backfill-cmd-'))}
  })

  afterEach(async () => {
    cleanNock()
    await rec.close()
  })

  const bodies = () => rec.received.map(g => JSON.parse(g.body.toString('utf8')))

  it('reads each list with the window, the cursor and the token; sends each object as a v2 delivery marked as a backfill', async () => {
    const api = nock(PD, {reqheaders: {'x-api-token': TOKEN}})
    api.get('/v1/users/me').reply(200, ME)
    api.get('/api/v2/deals').query({limit: '500', updated_since: SINCE, updated_until: UNTIL})
    .reply(200, page([deal(1, '2026-11-30T10:30:00Z'), deal(2, '2026-11-30T11:00:00Z', '2026-11-30T10:45:00Z')], 'c2'))
    api.get('/api/v2/deals').query({
      cursor: 'c2', limit: '500', updated_since: SINCE, updated_until: UNTIL,
    })
    .reply(200, page([deal(3, '2026-11-30T11:59:59Z')]))
    // products have no time filter: newest first, and the reading stops at the first older one (no next page asked)
    api.get('/api/v2/products').query({limit: '500', sort_by: 'update_time', sort_direction: 'desc'})
    .reply(200, page([{id: 9, name: 'Too new', update_time: '2026-11-30T12:00:00Z'}, {id: 8, name: 'Widget', update_time: '2026-11-30T11:00:00Z'}, {id: 7, name: 'Old', update_time: '2026-11-29T11:00:00Z'}], 'more'))
    const r = await run(['backfill', '--since', SINCE, '--until', UNTIL, '--object', 'product,deal', '--to', rec.url, '--basic-auth', 'hooks:s3cret-hook-pass'], env)
    expect(r.exit, r.stderr).to.equal(0)
    assertNockDone()
    expect(r.stdout).to.equal(`Backfill: 4 object(s) changed ${SINCE} → ${UNTIL}, 4 sent, 4 API call(s), ~32 tokens.\n`)
    expect(r.stdout + r.stderr).not.to.include('s3cret-hook-pass')
    const got = bodies()
    expect(got.map(b => `${b.meta.action}.${b.meta.entity} ${b.meta.entity_id}`)).to.deep.equal(['change.deal 1', 'create.deal 2', 'change.deal 3', 'change.product 8'])
    for (const [i, b] of got.entries()) {
      expect(b.meta).to.include({
        change_source: 'backfill', company_id: '99', host: 'acme.pipedrive.com', user_id: '7', version: '2.0', webhook_id: '0',
      })
      expect(b.previous).to.equal(null)
      expect(rec.received[i].headers).to.include({authorization: 'Basic ' + Buffer.from('hooks:s3cret-hook-pass').toString('base64'), 'content-type': 'application/json', 'x-pdhooks-backfill': '1'})
    }

    expect(got[0].meta.timestamp).to.equal('2026-11-30T10:30:00.000Z')
    expect(got[0].data).to.deep.equal(deal(1, '2026-11-30T10:30:00Z'))
  })

  it('--json: one document with the window, the counts and no resume command when complete', async () => {
    nock(PD).get('/v1/users/me').reply(200, ME)
    nock(PD).get('/api/v2/persons').query(true).reply(200, page([]))
    const r = await run(['backfill', '--since', SINCE, '--until', UNTIL, '--object', 'person', '--to', rec.url, '--json'], env)
    expect(r.exit, r.stderr).to.equal(0)
    expect(r.json()).to.deep.equal({
      complete: true,
      counts: {
        calls: 2, filtered: 0, found: 0, sent: 0, skipped: 0, tokens: 12,
      },
      dryRun: false,
      objects: ['person'],
      ok: true,
      since: SINCE,
      to: rec.url,
      until: UNTIL,
    })
  })

  describe('bad input: exit 2 with the fix, before any call', () => {
    const cases: Array<[string[], string, string?]> = [
      [['--since', 'yesterday'], 'Invalid --since "yesterday": not a time or a duration.', '2h'],
      [['--since', '2h', '--until', '3h'], 'The window is empty: --since 2h is not before --until 3h.'],
      [['--since', '2h', '--object', 'note'], 'A note cannot be backfilled: only the v1 list (offset paging, no upper bound).', 'Objects: deal, person'],
      [['--since', '2h', '--object', 'widget'], 'Unknown object "widget".'],
      [['--since', '2h', '--object', ' , '], '--object is empty.'],
      [[], 'Missing --since (or --webhook ID).'],
      [['--since', '2h', '--to', 'ftp://x'], '--to must be an http:// or https:// URL.'],
      [['--since', '2h', '--resume', '--restart'], '--resume continues a run, --restart discards it: give one. See "pdhooks backfill --help".'],
      [['--since', '2h', '--resume', '--dry-run'], '--dry-run only counts: it neither resumes nor restarts a run. Drop --dry-run, or --resume.'],
    ]
    for (const [args, message, hint] of cases) {
      it(`${args.join(' ') || '(nothing)'}`, async () => {
        const withTo = args.includes('--to') ? args : [...args, '--to', 'http://127.0.0.1:9/']
        const r = await run(['backfill', ...withTo], env)
        expect(r.exit, r.stderr).to.equal(2)
        expect(r.stderr).to.include(message)
        if (hint) expect(r.stderr).to.include(hint)
        expect(rec.received).to.have.length(0)
      })
    }

    it('no --to without --webhook', async () => {
      const r = await run(['backfill', '--since', '2h'], env)
      expect(r.exit).to.equal(2)
      expect(r.stderr).to.include('Missing --to URL.')
    })

    it('--limit over 500', async () => {
      const r = await run(['backfill', '--since', '2h', '--to', rec.url, '--limit', '501'], env)
      expect(r.exit).to.equal(2)
    })
  })

  describe('--webhook', () => {
    const last = '2026-11-30T11:00:00.000Z'

    it('takes its object, its window (its last attempt less Pipedrive\'s 183 s of retries), its URL and its Basic auth', async () => {
      nock(PD).get('/v1/webhooks').reply(200, {
        data: [webhook({
          event_action: '*', event_object: 'person', http_auth_password: 'hook-pass-0123456789', http_auth_user: 'ce', id: 42, is_active: 0, last_delivery_time: last, last_http_status: 503, owner_id: 5, subscription_url: rec.url, user_id: 6,
        })], success: true,
      })
      nock(PD).get('/v1/users/me').reply(200, ME)
      nock(PD).get('/api/v2/persons').query({limit: '500', updated_since: '2026-11-30T10:56:57Z', updated_until: UNTIL})
      .reply(200, page([{
        add_time: '2026-01-01T00:00:00Z', id: 5, name: 'Ada', update_time: '2026-11-30T11:30:00Z',
      }]))
      const r = await run(['backfill', '--webhook', '42', '--until', UNTIL, '--json'], env)
      expect(r.exit, r.stdout + r.stderr).to.equal(0)
      assertNockDone()
      expect(r.json()).to.include({since: '2026-11-30T10:56:57Z', webhook: 42})
      expect(r.stdout).not.to.include('hook-pass-0123456789')
      const [b] = bodies()
      expect(b.meta).to.include({
        entity: 'person', user_id: '6', webhook_id: '42', webhook_owner_id: '5',
      })
      expect(rec.received[0].headers.authorization).to.equal('Basic ' + Buffer.from('ce:hook-pass-0123456789').toString('base64'))
    })

    it('a create-only webhook gets only the objects added in the window (the others are counted as left out)', async () => {
      nock(PD).get('/v1/webhooks').reply(200, {
        data: [webhook({
          event_action: 'create', event_object: 'deal', id: 3, last_delivery_time: last, last_http_status: 200, subscription_url: 'https://elsewhere.example.com/h',
        })], success: true,
      })
      nock(PD).get('/v1/users/me').reply(200, ME)
      nock(PD).get('/api/v2/deals').query(true).reply(200, page([deal(1, '2026-11-30T11:30:00Z'), deal(2, '2026-11-30T11:30:00Z', '2026-11-30T11:10:00Z')]))
      const r = await run(['backfill', '--webhook', '3', '--since', SINCE, '--until', UNTIL, '--to', rec.url], env)
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout).to.include('1 sent, 1 not heard by the webhook\'s action')
      expect(bodies().map(b => `${b.meta.action} ${b.meta.entity_id}`)).to.deep.equal(['create 2'])
    })

    const refusals: Array<[Record<string, unknown>, number, string]> = [
      [{id: 5}, 4, 'If Pipedrive deleted it (3 days without a successful delivery), give the window yourself: --since 3d --to URL.'],
      [{id: 42, version: '1.0'}, 2, 'Webhook 42 is a webhooks v1 webhook'],
      [{event_action: 'delete', id: 42}, 2, 'Webhook 42 hears deletions only: deletions cannot be recovered from the API.'],
      [{event_object: 'note', id: 42}, 2, 'Webhook 42 hears change.note: a note cannot be backfilled'],
      [{event_object: 'deal', id: 42, last_delivery_time: null}, 0, ''],
    ]
    for (const [over, exit, message] of refusals) {
      it(`${JSON.stringify(over)} → exit ${exit}`, async () => {
        nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({last_delivery_time: last, ...over})], success: true})
        if (exit === 0) {
          nock(PD).get('/v1/users/me').reply(200, ME)
          nock(PD).get('/api/v2/deals').query(true).reply(200, page([]))
        }

        const r = await run(['backfill', '--webhook', '42', '--to', rec.url, '--dry-run'], env)
        expect(r.exit, r.stderr).to.equal(exit)
        if (message) expect(r.stderr).to.include(message)
      })
    }

    it('an --object the webhook does not hear is exit 2; * warns about what cannot be backfilled', async () => {
      nock(PD).get('/v1/webhooks').reply(200, {
        data: [webhook({
          event_action: '*', event_object: '*', id: 42, last_delivery_time: last, last_http_status: 200,
        })], success: true,
      })
      nock(PD).get('/v1/users/me').reply(200, ME)
      nock(PD).get('/api/v2/deals').query(true).reply(200, page([]))
      const r = await run(['backfill', '--webhook', '42', '--object', 'deal', '--to', rec.url, '--dry-run'], env)
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stderr).to.include('Webhook 42 hears every object; these cannot be backfilled: board, deal_installment, deal_product, lead, note')
      expect(r.stderr).to.include('last delivery succeeded')
      nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({event_object: 'person', id: 42, last_delivery_time: last})], success: true})
      const r2 = await run(['backfill', '--webhook', '42', '--object', 'deal', '--to', rec.url, '--dry-run'], env)
      expect(r2.exit).to.equal(2)
      expect(r2.stderr).to.include('Webhook 42 does not hear deal (its event is change.person).')
      assertNockDone()
    })
  })

  it('a 429 that asks to wait an hour (the daily budget) stops at once, resumably (exit 6), nothing sent', async () => {
    nock(PD).get('/v1/users/me').reply(200, ME)
    nock(PD).get('/api/v2/deals').query(true).reply(429, {error: 'Daily limit', success: false}, {'retry-after': '3600'})
    const r = await run(['backfill', '--since', SINCE, '--until', UNTIL, '--object', 'deal', '--to', rec.url], env)
    expect(r.exit, r.stderr).to.equal(6)
    expect(r.stderr).to.include('Backfill stopped: Pipedrive\'s rate limit stops the run (Try again in 3600 s.).')
    expect(r.stderr).to.include('resets at midnight (UTC)')
    expect(r.stderr).to.include(`pdhooks backfill --since ${SINCE} --until ${UNTIL} --object deal --to ${rec.url} --resume`)
    expect(rec.received).to.have.length(0)
  })

  it('a malformed list answer is exit 1 naming the list, never an empty window', async () => {
    nock(PD).get('/v1/users/me').reply(200, ME)
    nock(PD).get('/api/v2/deals').query(true).reply(200, {data: {}, success: true})
    const r = await run(['backfill', '--since', SINCE, '--until', UNTIL, '--object', 'deal', '--to', rec.url], env)
    expect(r.exit).to.equal(1)
    expect(r.stderr).to.include('with no list of deals (GET /api/v2/deals)')
  })

  it('a receiver that refuses the credentials: no retry, exit 1, the hint names --basic-auth; its --json says what is left', async () => {
    await rec.close()
    rec = await receiver({path: '/', status: 401})
    nock(PD).get('/v1/users/me').reply(200, ME)
    nock(PD).get('/api/v2/deals').query(true).reply(200, page([deal(1, '2026-11-30T10:30:00Z'), deal(2, '2026-11-30T10:31:00Z')]))
    const r = await run(['backfill', '--since', SINCE, '--until', UNTIL, '--object', 'deal', '--to', rec.url, '--basic-auth', 'a:b', '--json'], env)
    expect(r.exit).to.equal(1)
    const out = r.json()
    expect(out).to.deep.include({complete: false, ok: false, stopped: {message: 'the receiver did not accept change.deal 1 after 1 attempt(s) (401)', reason: 'receiver'}})
    expect(out.resume).to.equal(`pdhooks backfill --since ${SINCE} --until ${UNTIL} --object deal --to ${rec.url} --basic-auth "$PDHOOKS_BASIC_AUTH" --resume`)
    expect(rec.received).to.have.length(1)
    expect(out.error).to.include({code: 'receiver', status: null})
    expect(out.error.message).to.match(/^Backfill stopped: the receiver did not accept change\.deal 1 after 1 attempt\(s\) \(401\)\. Check --basic-auth\. To continue/)
  })

  it('--from-journal skips what the journal holds at that version or later; --dry-run counts and keeps no progress', async () => {
    const file = join(env.PDHOOKS_CONFIG_DIR, 'j.ndjson')
    writeFileSync(file, `${entry(1, '2026-11-30T10:30:00.000Z')}\n${entry(2, '2026-11-30T10:00:00.000Z')}\nnot json\n`)
    nock(PD).get('/v1/users/me').reply(200, ME)
    nock(PD).get('/api/v2/deals').query(true).reply(200, page([deal(1, '2026-11-30T10:30:00Z'), deal(2, '2026-11-30T10:31:00Z'), deal(3, '2026-11-30T10:32:00Z')]))
    const r = await run(['backfill', '--since', SINCE, '--until', UNTIL, '--object', 'deal', '--to', rec.url, '--from-journal', file, '--dry-run'], env)
    expect(r.exit, r.stderr).to.equal(0)
    expect(r.stderr).to.include('1 of 3 line(s) of')
    expect(r.stdout).to.equal(`Backfill (dry run): 3 object(s) changed ${SINCE} → ${UNTIL}, 2 to send, 1 already in the journal, 2 API call(s), ~12 tokens.\n`)
    expect(rec.received).to.have.length(0)
    const again = await run(['backfill', '--since', SINCE, '--until', UNTIL, '--object', 'deal', '--to', rec.url, '--from-journal', file, '--resume'], env)
    expect(again.exit).to.equal(2)
    expect(again.stderr).to.include('Nothing to resume')
  })
})
