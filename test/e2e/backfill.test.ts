// e2e: backfill against the sandbox. A webhook banned in the sandbox loses the changes made during the ban; backfill
// reads them from the sandbox's API v2 lists and delivers each exactly once; a journal makes a second run send nothing.
// Interruption, a failing receiver, the daily budget and paging are driven for real (child processes, real HTTP).
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import {receiver} from '../support/receiver.js'
import {waitFor} from '../support/wait.js'
import {
  binRun, cleanEnv, explain, listen, root, useSandbox,
} from './helpers.js'

interface Line {
  body: string
  headers: Record<string, string>
}

const journaled = (file: string): any[] => readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(l => {
  const e = JSON.parse(l) as Line
  return {...JSON.parse(e.body), headers: e.headers}
})

describe('e2e: backfill', () => {
  const e2e = useSandbox({timeScale: 0.01})

  const change = async (object: string, id: number, action = 'change') => {
    const r = await e2e.api('POST', '/sandbox/events', {action, id, object})
    expect(r.status, JSON.stringify(r.body)).to.equal(200)
    return r.body
  }

  it('a banned webhook: --webhook delivers exactly the missed changes once; a second run with --from-journal sends nothing new', async function () {
    this.timeout(60_000)
    const rx = await receiver({path: '/'})
    const journal = join(e2e.configDir, 'deliveries.ndjson')
    const target = await listen(['--journal', journal, '--max-events', '13'])
    try {
      const [hook] = await e2e.seedPipedrive(1, () => ({event_action: '*', event_object: 'deal', subscription_url: rx.url}))
      rx.status = 503
      // 10 failed first attempts: Pipedrive bans the webhook (30 min × 0.01), the changes were lost too
      for (let id = 1; id <= 10; id++) await change('deal', id)
      const banned = await waitFor('the ban', async () => (await e2e.state()).pipedrive.webhooks.find((w: any) => w.id === hook.id)?.is_active === 0)
      expect(banned).to.equal(true)
      // during the ban: three more deals (one created), deal 1 again, and a person the webhook does not hear
      const lost = [await change('deal', 11), await change('deal', 12), await change('deal', 13, 'create'), await change('deal', 1), await change('person', 50)]
      expect(lost.slice(0, 4).every(b => b.deliveries.every((d: any) => d.dropped)), JSON.stringify(lost)).to.equal(true)
      rx.status = 200
      await e2e.api('DELETE', '/sandbox/requests')

      const r = await e2e.run(['backfill', '--webhook', String(hook.id), '--to', target.url, '--json'])
      expect(r.code, explain(r)).to.equal(0)
      const out = r.json()
      expect(out).to.include({complete: true, ok: true, webhook: hook.id})
      expect(out.objects).to.deep.equal(['deal'])
      expect(out.counts).to.include({found: 13, sent: 13, skipped: 0})
      const got = journaled(journal)
      const ids = got.map(b => b.meta.entity_id).sort((a, b) => a - b)
      expect(ids).to.deep.equal(Array.from({length: 13}, (_, i) => String(i + 1)))
      for (const b of got) {
        expect(b.meta).to.include({
          change_source: 'backfill', entity: 'deal', version: '2.0', webhook_id: String(hook.id),
        })
        expect(b.headers['x-pdhooks-backfill']).to.equal('1')
        expect(b.previous).to.equal(null)
        expect(b.data.id).to.equal(Number(b.meta.entity_id))
      }

      expect(got.find(b => b.meta.entity_id === '13').meta.action).to.equal('create')
      expect(got.filter(b => b.meta.action === 'create')).to.have.length(1)
      // the receiver stops after 13 deliveries: a 14th would have been a duplicate
      expect((await target.exited).code).to.equal(0)
      // what was asked of the API: the webhook's object only, its window, paced pages
      const asked = await e2e.requests('/api/v2/')
      expect(asked.map(q => q.path)).to.deep.equal(['/api/v2/deals'])
      expect(asked[0].query).to.have.keys('limit', 'updated_since', 'updated_until')
      expect(Date.parse(asked[0].query.updated_since)).to.be.below(Date.parse(hook.add_time) + 1000)

      const again = await e2e.run(['backfill', '--webhook', String(hook.id), '--to', target.url, '--from-journal', journal, '--json'])
      expect(again.code, explain(again)).to.equal(0)
      expect(again.json().counts).to.include({found: 13, sent: 0, skipped: 13})
      expect(journaled(journal)).to.have.length(13)
    } finally {
      await rx.close()
    }
  })

  it('paging over several pages; Ctrl-C mid-run says what was sent (130), --resume sends the rest, no duplicates', async function () {
    this.timeout(60_000)
    for (let id = 1; id <= 7; id++) await change('deal', id)
    const slow = await receiver({path: '/', delayMs: 250})
    try {
      const args = ['backfill', '--since', '1h', '--object', 'deal', '--limit', '2', '--to', slow.url]
      const child = spawn(process.execPath, [binRun, ...args], {cwd: root, env: {...cleanEnv(), ...e2e.env}, stdio: ['ignore', 'pipe', 'pipe']})
      let stderr = ''
      child.stderr.on('data', d => {
        stderr += d
      })
      const exited = new Promise<null | number>(resolve => {
        child.once('close', code => resolve(code))
      })
      await waitFor('3 deliveries', () => slow.received.length >= 3, 15_000)
      child.kill('SIGINT')
      const code = await exited
      expect(code, stderr).to.equal(130)
      const before = slow.received.length
      expect(stderr).to.match(new RegExp(`Interrupted \\(SIGINT\\): sent ${before} object\\(s\\)`))
      expect(stderr).to.include(`To continue: pdhooks backfill --since 1h --object deal --to ${slow.url} --limit 2 --resume`)

      const rest = await e2e.run([...args, '--resume'])
      expect(rest.code, explain(rest)).to.equal(0)
      expect(rest.stderr).to.include(`Resuming: ${before} sent before`)
      const ids = slow.received.map(g => JSON.parse(g.body.toString('utf8')).meta.entity_id)
      expect(ids.toSorted((a, b) => a - b)).to.deep.equal(['1', '2', '3', '4', '5', '6', '7'])
      const pages = (await e2e.requests('/api/v2/deals')).filter(q => q.query.limit === '2')
      expect(pages.length).to.be.at.least(4)
      expect(pages.some(q => q.query.cursor)).to.equal(true)
      // the run is over: nothing is left to resume
      const none = await e2e.run([...args, '--resume'])
      expect(none.code, explain(none)).to.equal(2)
      expect(none.stderr).to.include('Nothing to resume')
    } finally {
      await slow.close()
    }
  })

  it('a receiver that keeps failing: 4 attempts, then it stops saying what was not sent (exit 6); --resume sends the rest once', async function () {
    this.timeout(60_000)
    for (let id = 1; id <= 3; id++) await change('person', id)
    const rx = await receiver({path: '/'})
    try {
      rx.status = 503
      // 50m: the sandbox dates a changed object's creation an hour before its change, so 1h could make it a create
      const args = ['backfill', '--since', '50m', '--object', 'person', '--to', rx.url]
      const r = await e2e.run(args)
      expect(r.code, explain(r)).to.equal(6)
      expect(r.stderr, r.stderr).to.include('Backfill stopped: the receiver did not accept change.person 1 after 4 attempt(s) (503).')
      expect(r.stderr).to.include(`pdhooks backfill --since 50m --object person --to ${rx.url} --resume`)
      expect(r.stdout).to.include('0 sent')
      const attempts = rx.received.map(x => x.json.meta)
      expect(attempts.map(m => m.attempt)).to.deep.equal([1, 2, 3, 4])
      expect(new Set(attempts.map(m => m.id)).size).to.equal(1)
      // another run with the same parameters must not silently start over
      const refused = await e2e.run(args)
      expect(refused.code, explain(refused)).to.equal(2)
      expect(refused.stderr).to.include('--resume')

      rx.status = 200
      rx.received.length = 0
      const rest = await e2e.run([...args, '--resume'])
      expect(rest.code, explain(rest)).to.equal(0)
      expect(rx.received.map(x => x.json.meta.entity_id)).to.deep.equal(['1', '2', '3'])
    } finally {
      await rx.close()
    }
  })

  it('the daily budget: x-daily-requests-left 0 stops before the next call; a 429 for an hour stops at once; --max-tokens caps the spend', async function () {
    this.timeout(60_000)
    for (let id = 1; id <= 5; id++) await change('deal', id)
    const rx = await receiver({path: '/'})
    try {
      await e2e.fault({
        headers: {'x-daily-requests-left': '0'}, method: 'GET', passThrough: true, path: '/api/v2/deals',
      })
      const args = ['backfill', '--since', '1h', '--object', 'deal', '--limit', '2', '--to', rx.url]
      const r = await e2e.run(args)
      expect(r.code, explain(r)).to.equal(6)
      expect(r.stderr).to.include('Backfill stopped: Pipedrive\'s daily budget is spent (x-daily-requests-left: 0).')
      expect(r.stderr).to.include('resets at midnight')
      expect(rx.received).to.have.length(2)
      expect((await e2e.requests('/api/v2/deals'))).to.have.length(1)

      await e2e.fault({
        body: {error: 'Daily budget exhausted', success: false}, headers: {'retry-after': '3600'}, method: 'GET', path: '/api/v2/deals', status: 429,
      })
      const limited = await e2e.run([...args, '--resume'])
      expect(limited.code, explain(limited)).to.equal(6)
      expect(limited.stderr).to.include('rate limit')
      expect(rx.received).to.have.length(2)

      rmSync(join(e2e.configDir, 'backfill'), {force: true, recursive: true})
      rx.received.length = 0
      const capped = await e2e.run([...args, '--max-tokens', '25', '--json'])
      expect(capped.code, explain(capped)).to.equal(6)
      const out = capped.json()
      expect(out.stopped.reason).to.equal('budget')
      expect(out.counts).to.include({calls: 3, sent: 4, tokens: 22})
      expect(out.resume).to.include('--max-tokens 25 --resume')
    } finally {
      await rx.close()
    }
  })

  it('--dry-run reads the lists and counts, sends nothing, keeps no progress', async () => {
    for (let id = 1; id <= 3; id++) await change('organization', id)
    await change('deal', 9, 'create')
    const rx = await receiver({path: '/'})
    try {
      const r = await e2e.run(['backfill', '--since', '1h', '--to', rx.url, '--dry-run'])
      expect(r.code, explain(r)).to.equal(0)
      expect(r.stdout).to.match(/^Backfill \(dry run\): 4 object\(s\) changed .* 4 to send, 8 API call\(s\), ~72 tokens\.\n$/)
      expect(rx.received).to.have.length(0)
      expect((await e2e.requests('/api/v2/')).map(q => q.path)).to.deep.equal(['/api/v2/deals', '/api/v2/persons', '/api/v2/organizations', '/api/v2/activities', '/api/v2/products', '/api/v2/pipelines', '/api/v2/stages'])
    } finally {
      await rx.close()
    }
  })
})

describe('e2e: backfill is paced under the burst limit', () => {
  const e2e = useSandbox({burst: 3})

  it('many pages against a burst of 3 requests per 2 s: every call waits for the window, none is answered 429', async function () {
    this.timeout(60_000)
    for (let id = 1; id <= 6; id++) expect((await e2e.api('POST', '/sandbox/events', {action: 'change', id, object: 'activity'})).status).to.equal(200)
    const rx = await receiver({path: '/'})
    try {
      await e2e.api('DELETE', '/sandbox/requests')
      const t0 = Date.now()
      const r = await e2e.run(['backfill', '--since', '1h', '--object', 'activity', '--limit', '1', '--to', rx.url, '--json'], {timeoutMs: 40_000})
      expect(r.code, explain(r)).to.equal(0)
      expect(r.json().counts).to.include({calls: 7, sent: 6})
      const calls = await e2e.requests()
      expect(calls.map(c => (c as {status?: number}).status)).to.deep.equal(Array.from({length: 7}, () => 200))
      // 7 calls (/users/me and 6 pages) at 3 per rolling 2 s take two more windows
      expect(Date.now() - t0).to.be.at.least(3500)
      expect(rx.received.map(x => x.json.meta.entity_id)).to.deep.equal(['1', '2', '3', '4', '5', '6'])
    } finally {
      await rx.close()
    }
  })
})
