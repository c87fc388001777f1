// e2e: an interrupted `webhook migrate` finishes the webhook in flight (its v1 one deleted: never two deliveries left
// behind silently), starts no other, says what is left and exits 130; so does an interrupted `doctor --fix`.
import {expect} from 'chai'
import {spawn} from 'node:child_process'

import {
  binRun, cleanEnv, root, useSandbox, waitFor,
} from './helpers.js'

describe('e2e: interrupted webhook migrate and doctor --fix', () => {
  const e2e = useSandbox({burst: 0})

  it('Ctrl-C during the 1st of 3 migrations finishes it, says what is left (130)', async function () {
    this.timeout(40_000)
    const ids = (await e2e.seedPipedrive(3, i => ({event_action: 'updated', subscription_url: `https://app.example.com/${i}`, version: '1.0'}))).map(w => w.id)
    await e2e.api('DELETE', '/sandbox/requests')
    await e2e.fault({
      delay: 800, method: 'POST', passThrough: true, path: '/v1/webhooks', times: 0,
    })
    const child = spawn(process.execPath, [binRun, 'webhook', 'migrate', ...ids.map(String), '--yes'], {cwd: root, env: {...cleanEnv(), ...e2e.env}, stdio: ['pipe', 'pipe', 'pipe']})
    child.stdin.end()
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    const killer = setTimeout(() => child.kill('SIGKILL'), 25_000)
    const code = new Promise<null | number>(resolve => {
      child.once('close', c => resolve(c))
    })
    await waitFor('the 1st POST', async () => (await e2e.requests('/v1/webhooks')).some(r => r.method === 'POST'), 15_000)
    child.kill('SIGINT')
    const exit = await code
    clearTimeout(killer)
    const stdout = Buffer.concat(out).toString('utf8')
    const stderr = Buffer.concat(err).toString('utf8')
    const why = `exit ${exit}\nstdout: ${stdout}\nstderr: ${stderr}`
    expect(exit, why).to.equal(130)
    expect(stdout, why).to.match(new RegExp(`Migrated webhook ${ids[0]} updated.deal \\(v1.0\\) → v2 webhook \\d+ change.deal \\(v2.0\\)`))
    expect(stderr).to.include('Interrupted (SIGINT): migrated 1 of 3 webhook(s).')
    expect(stderr).to.include(`To finish: pdhooks webhook migrate ${ids.slice(1).join(' ')} --yes`)
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
    const child = spawn(process.execPath, [binRun, 'doctor', '--fix', '--yes'], {cwd: root, env: {...cleanEnv(), ...e2e.env}, stdio: ['pipe', 'pipe', 'pipe']})
    child.stdin.end()
    const err: Buffer[] = []
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.stdout.resume()
    const killer = setTimeout(() => child.kill('SIGKILL'), 25_000)
    const code = new Promise<null | number>(resolve => {
      child.once('close', c => resolve(c))
    })
    await waitFor('the DELETE', async () => (await e2e.requests('/v1/webhooks')).some(r => r.method === 'DELETE'), 15_000)
    child.kill('SIGINT')
    const exit = await code
    clearTimeout(killer)
    const stderr = Buffer.concat(err).toString('utf8')
    expect(exit, stderr).to.equal(130)
    expect(stderr).to.include('Interrupted (SIGINT): deleted 1 of 2 object(s).')
    expect(stderr).to.include(`Not deleted: pipeliner-webhook ${pl[1].id}.`)
    expect(stderr).to.include('To finish: pdhooks doctor --fix --yes')
    const state = await e2e.state()
    expect(state.pipedrive.webhooks.map((w: any) => w.id)).to.deep.equal([pd[0].id])
    expect(state.pipeliner.webhooks.filter((w: any) => !w.is_deleted)).to.have.length(2)
  })
})
