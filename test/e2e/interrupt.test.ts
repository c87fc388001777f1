// e2e: interrupted deletes. The built CLI runs as a child process against the sandbox, whose `delay` faults hold each
// delete long enough for a real SIGINT / SIGTERM to land mid-way; the CLI must finish what is in flight, say what it
// did and did not do, and exit 130 / 143 (at once at a second signal, or after the grace period).
import {expect} from 'chai'

import {PL_HOOKS} from '../support/fixtures.js'
import {sleep, waitFor} from '../support/wait.js'
import {startCli, useSandbox} from './helpers.js'

const explain = (r: {code: null | number; stderr: string; stdout: string}) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`

describe('e2e: interrupted deletes say what they did (exit 130 / 143)', () => {
  const e2e = useSandbox()

  const start = (args: string[]) => startCli(args, e2e.env)

  const arrived = async (method: string, prefix: string) => (await e2e.requests(prefix)).filter(r => r.method === method).length

  it('webhook delete: Ctrl-C during the 2nd of 5 deletions finishes it, prints each result, says what is left (130)', async function () {
    this.timeout(40_000)
    const ids = (await e2e.seedPipedrive(5)).map(w => w.id)
    await e2e.fault({
      method: 'DELETE', path: '/v1/webhooks/*', delay: 600, times: 0,
    })
    const run = start(['webhook', 'delete', ...ids.map(String), '--yes', '--concurrency', '1'])
    await waitFor('the 2nd DELETE to reach the sandbox', async () => (await arrived('DELETE', '/v1/webhooks/')) >= 2, 15_000)
    run.kill('SIGINT')
    const r = await run.done
    expect(r.code, explain(r)).to.equal(130)
    expect(r.stdout.trim().split('\n'), explain(r)).to.deep.equal(ids.slice(0, 2).map(id => `Deleted webhook ${id} (change.deal → https://seed.example.com/${ids.indexOf(id)})`))
    expect(r.stderr).to.include('Interrupted (SIGINT): deleted 2 of 5 webhook(s).')
    expect(r.stderr).to.include(`Not deleted: ${ids.slice(2).join(', ')}.`)
    expect(r.stderr).to.include(`To finish: pdhooks webhook delete ${ids.slice(2).join(' ')} --yes`)
    expect(r.stderr).not.to.match(/Error|\n\s+at /)
    expect(await arrived('DELETE', '/v1/webhooks/')).to.equal(2)
    expect((await e2e.state()).pipedrive.webhooks.map((w: any) => w.id)).to.deep.equal(ids.slice(2))
  })

  it('webhook delete --json: SIGTERM gives one JSON document saying what was done (143)', async function () {
    this.timeout(40_000)
    const ids = (await e2e.seedPipedrive(4)).map(w => w.id)
    await e2e.fault({
      method: 'DELETE', path: '/v1/webhooks/*', delay: 600, times: 0,
    })
    const run = start(['webhook', 'delete', '--all', '--yes', '--concurrency', '1', '--json'])
    await waitFor('the 1st DELETE', async () => (await arrived('DELETE', '/v1/webhooks/')) >= 1, 15_000)
    run.kill('SIGTERM')
    const r = await run.done
    expect(r.code, explain(r)).to.equal(143)
    const {error} = JSON.parse(r.stdout)
    expect(error).to.deep.include({
      code: 'interrupted', deleted: 1, inFlight: [], message: 'Interrupted (SIGTERM): deleted 1 of 4 webhook(s).', notStarted: ids.slice(1), signal: 'SIGTERM', status: null,
    })
    expect(error.results).to.deep.equal([{id: ids[0], status: 'deleted'}])
    expect(r.stderr).to.equal('')
  })

  it('a second Ctrl-C stops waiting: exit 130 at once, the deletion in flight reported as unknown', async function () {
    this.timeout(40_000)
    const ids = (await e2e.seedPipedrive(3)).map(w => w.id)
    await e2e.fault({
      method: 'DELETE', path: '/v1/webhooks/*', delay: 20_000, times: 0,
    })
    const run = start(['webhook', 'delete', ...ids.map(String), '--yes', '--concurrency', '1'])
    await waitFor('the 1st DELETE', async () => (await arrived('DELETE', '/v1/webhooks/')) >= 1, 15_000)
    run.kill('SIGINT')
    await sleep(800)
    const t = Date.now()
    run.kill('SIGINT')
    const r = await run.done
    expect(r.code, explain(r)).to.equal(130)
    expect(Date.now() - t).to.be.below(2000)
    expect(r.stdout).to.equal('')
    expect(r.stderr).to.include('Interrupted (SIGINT): deleted 0 of 3 webhook(s).')
    expect(r.stderr).to.include(`In flight when stopped (may or may not be deleted): ${ids[0]}.`)
    expect(r.stderr).to.include(`Not deleted: ${ids.slice(1).join(', ')}.`)
    expect(r.stderr).to.include(`To finish: pdhooks webhook delete ${ids.join(' ')} --yes`)
  })

  it('pipeliner webhook delete: one Ctrl-C while a batch hangs reports after the grace period (130)', async function () {
    this.timeout(40_000)
    const ids = (await e2e.seedPipeliner(2)).map(w => w.id)
    await e2e.fault({
      method: 'POST', path: `${PL_HOOKS}/batch-delete`, delay: 20_000,
    })
    const run = start(['pipeliner', 'webhook', 'delete', ...ids, '--yes', '--json'])
    await waitFor('the batch-delete', async () => (await arrived('POST', `${PL_HOOKS}/batch-delete`)) >= 1, 15_000)
    const t = Date.now()
    run.kill('SIGINT')
    const r = await run.done
    expect(r.code, explain(r)).to.equal(130)
    expect(Date.now() - t).to.be.within(4000, 12_000)
    const {error} = JSON.parse(r.stdout)
    expect(error).to.deep.include({
      code: 'interrupted', deleted: 0, inFlight: ids, message: 'Interrupted (SIGINT): deleted 0 of 2 Pipeliner webhook(s).', notStarted: [],
    })
  })

  it('instance delete --with-webhooks: Ctrl-C during the webhooks says the instance is gone and which webhooks still point at it', async function () {
    this.timeout(40_000)
    const created = await e2e.run(['instance', 'create', '--name', 'doomed', '--events', 'webhook', '--callback-url', 'https://app.example.com/ce', '--config', 'pipedrive.api.token=x', '--json'])
    expect(created.code, created.stdout + created.stderr).to.equal(0)
    const {id} = created.json().instance
    const hooks: number[] = []
    for (const event of ['*.deal', 'added.person', 'updated.organization', 'deleted.activity', 'merged.person', 'added.note']) {
      const r = await e2e.run(['webhook', 'add', event, '--instance', String(id), '--json'])
      expect(r.code, r.stdout + r.stderr).to.equal(0)
      hooks.push(r.json().webhook.id)
    }

    await e2e.api('DELETE', '/sandbox/requests')
    await e2e.fault({
      method: 'DELETE', path: '/v1/webhooks/*', delay: 600, times: 0,
    })
    const run = start(['instance', 'delete', String(id), '--with-webhooks', '--yes'])
    await waitFor('the 1st webhook DELETE', async () => (await arrived('DELETE', '/v1/webhooks/')) >= 1, 15_000)
    run.kill('SIGINT')
    const r = await run.done
    expect(r.code, explain(r)).to.equal(130)
    expect(r.stdout).to.include(`Deleted instance ${id} "doomed"`)
    // four deletions run at once: those finish, the other two never start
    expect(r.stderr).to.include(`Interrupted (SIGINT): deleted instance ${id}; deleted 4 of 6 webhook(s) pointing at it.`)
    const left = (await e2e.state()).pipedrive.webhooks.map((w: any) => w.id)
    expect(left).to.deep.equal(hooks.slice(4))
    expect(r.stderr).to.include(`To finish: pdhooks webhook delete ${left.join(' ')} --yes`)
    expect((await e2e.state()).elements.instances).to.deep.equal([])
  })
})
