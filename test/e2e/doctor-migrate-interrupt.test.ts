// e2e: an interrupted `webhook migrate` finishes the webhook in flight (its v1 one deleted: never two deliveries left
// behind silently), starts no other, says what is left and exits 130; so does an interrupted `doctor --fix`.
import {expect} from 'chai'

import {waitFor} from '../support/wait.js'
import {startCli, useSandbox} from './helpers.js'

const explain = (r: {code: null | number; stderr: string; stdout: string}) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`

describe('e2e: interrupted webhook migrate and doctor --fix', () => {
  const e2e = useSandbox({burst: 0})
  const arrived = async (method: string) => (await e2e.requests('/v1/webhooks')).some(r => r.method === method)

  it('webhook migrate: Ctrl-C during the 1st of 3 migrations finishes it, says what is left (130)', async function () {
    this.timeout(40_000)
    const ids = (await e2e.seedPipedrive(3, i => ({event_action: 'updated', subscription_url: `https://app.example.com/${i}`, version: '1.0'}))).map(w => w.id)
    await e2e.api('DELETE', '/sandbox/requests')
    await e2e.fault({
      delay: 800, method: 'POST', passThrough: true, path: '/v1/webhooks', times: 0,
    })
    const run = startCli(['webhook', 'migrate', ...ids.map(String), '--yes'], e2e.env)
    await waitFor('the 1st POST', () => arrived('POST'), 15_000)
    run.kill('SIGINT')
    const r = await run.done
    expect(r.code, explain(r)).to.equal(130)
    expect(r.stdout, explain(r)).to.match(new RegExp(`Migrated webhook ${ids[0]} updated.deal \\(v1.0\\) → v2 webhook \\d+ change.deal \\(v2.0\\)`))
    expect(r.stderr).to.include('Interrupted (SIGINT): migrated 1 of 3 webhook(s).')
    expect(r.stderr).to.include(`To finish: pdhooks webhook migrate ${ids.slice(1).join(' ')} --yes`)
    const left = (await e2e.state()).pipedrive.webhooks.map((w: any) => `${w.id} ${w.event_action} ${w.version}`)
    expect(left).to.have.length(3)
    expect(left.slice(0, 2)).to.deep.equal([`${ids[1]} updated 1.0`, `${ids[2]} updated 1.0`])
    expect(left[2]).to.match(/^\d+ change 2\.0$/)
  })

  it('doctor --fix: Ctrl-C during the Pipedrive deletions finishes them, starts no other, says what is left (130)', async function () {
    this.timeout(40_000)
    const pd = await e2e.seedPipedrive(2, () => ({name: 'dup', subscription_url: 'https://dup.example.com/h'}))
    const pl = await e2e.seedPipeliner(2, () => ({url: 'https://dup.example.com/pl'}))
    await e2e.api('DELETE', '/sandbox/requests')
    await e2e.fault({
      delay: 800, method: 'DELETE', passThrough: true, path: '/v1/webhooks/*', times: 0,
    })
    const run = startCli(['doctor', '--fix', '--yes'], e2e.env)
    await waitFor('the DELETE', () => arrived('DELETE'), 15_000)
    run.kill('SIGINT')
    const r = await run.done
    expect(r.code, explain(r)).to.equal(130)
    expect(r.stderr).to.include('Interrupted (SIGINT): deleted 1 of 2 object(s).')
    // which of the two identical Pipeliner webhooks is kept depends on their creation times: either way one is not deleted
    expect(r.stderr).to.match(new RegExp(`Not deleted: pipeliner-webhook (${pl[0].id}|${pl[1].id})\\.`))
    expect(r.stderr).to.include('To finish: pdhooks doctor --fix --yes')
    const state = await e2e.state()
    expect(state.pipedrive.webhooks.map((w: any) => w.id)).to.deep.equal([pd[0].id])
    expect(state.pipeliner.webhooks.filter((w: any) => !w.is_deleted)).to.have.length(2)
  })
})
