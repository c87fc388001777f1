// npm run bench: start-up and bulk-work figures of the CLI the user runs (bin/run.js), measured in one run against a
// local sandbox, beside the floors they are compared with. Prints medians, ratios and the targets of issue 8.
//   BENCH_ROUNDS=20 npm run bench      (default 15 rounds; each round runs every command once, alternating)
//   BENCH_NODE=/path/to/node npm run bench   (that Node runs everything measured: the CLI, the floors, the servers)
//   BENCH_ONLY=startup npm run bench   (only the start-up figures)
import {spawn, spawnSync} from 'node:child_process'
import {
  existsSync, mkdtempSync, readFileSync, rmSync,
} from 'node:fs'
import http from 'node:http'
import {loadavg, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {buildIfStale} from './manifest-guard.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const RUN = join(root, 'bin', 'run.js')
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15)
const node = process.env.BENCH_NODE || process.execPath
const nodeVersion = spawnSync(node, ['--version'], {encoding: 'utf8'}).stdout.trim()
buildIfStale(root)

const children = []
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PDHOOKS_') && k !== 'DEBUG'))
const configDir = mkdtempSync(join(tmpdir(), 'pdhooks-bench-'))
// Node's compile cache (Node >= 22.8) in a folder of this run, filled by the warm-up runs
cleanEnv.PDHOOKS_CACHE_DIR = join(configDir, 'cache')

/** Starts a long-running process and resolves with its URL (the "Ready: <url>" line) and its exported variables. */
function start(args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, {env: {...cleanEnv, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    children.push(child)
    let out = ''
    let err = ''
    child.stdout.on('data', d => {
      out += d
    })
    child.stderr.on('data', d => {
      err += d
      const m = /Ready: (\S+)/.exec(err)
      if (m) {
        const vars = Object.fromEntries([...out.matchAll(/^export (\w+)=(.*)$/gm)].map(x => [x[1], x[2]]))
        resolve({child, url: m[1].replace(/\/$/, ''), vars})
      }
    })
    child.on('exit', code => reject(new Error(`${args.join(' ')} exited (${code}): ${err}`)))
  })
}

function request(method, url, {body, headers = {}, agent} = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    const req = http.request(url, {agent, headers: {...(data ? {'content-length': data.length, 'content-type': 'application/json'} : {}), ...headers}, method}, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', c => {
        text += c
      })
      res.on('end', () => resolve({status: res.statusCode, text}))
    })
    req.on('error', reject)
    req.end(data)
  })
}

async function createWebhooks(base, n) {
  for (let i = 0; i < n; i++) {
    const r = await request('POST', `${base}/v1/webhooks`, {
      body: {
        event_action: 'change', event_object: 'deal', name: `bench ${i}`, subscription_url: `https://example.com/hook/${i}`, version: '2.0',
      },
      headers: {'x-api-token': `bench-setup-${i}`},
    })
    if (r.status !== 201) throw new Error(`could not create webhook ${i}: ${r.status} ${r.text}`)
  }
}

function timeOnce(args, env) {
  const t = process.hrtime.bigint()
  const r = spawnSync(node, args, {env: {...cleanEnv, PDHOOKS_CONFIG_DIR: configDir, ...env}, stdio: ['ignore', 'ignore', 'pipe']})
  const ms = Number(process.hrtime.bigint() - t) / 1e6
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return ms
}

const median = xs => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

const fmt = ms => `${ms.toFixed(1)} ms`
const verdict = ok => (ok ? 'PASS' : 'FAIL')
const results = []

async function startup() {
  const sandbox = await start([RUN, 'sandbox', '--port', '0', '--burst', '0'])
  await createWebhooks(sandbox.url, 40)
  const env = sandbox.vars
  const cases = {
    'node -e 0': [['-e', '0'], {}],
    'floor (node:http list)': [[join(root, 'bench', 'floor.js')], env],
    'pdhooks --version': [[RUN, '--version'], {}],
    'pdhooks webhook list --json': [[RUN, 'webhook', 'list', '--json'], env],
  }
  const times = Object.fromEntries(Object.keys(cases).map(k => [k, []]))
  for (const [args, e] of Object.values(cases)) timeOnce(args, e) // warm-up (and the code cache)
  for (let round = 0; round < ROUNDS; round++) {
    const order = Object.keys(cases)
    if (round % 2) order.reverse()
    for (const name of order) times[name].push(timeOnce(...cases[name]))
  }

  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
  console.log(`\nStart-up (median of ${ROUNDS} alternating runs, same machine, same run)`)
  for (const [k, v] of Object.entries(med)) console.log(`  ${k.padEnd(30)} ${fmt(v)}`)
  const listRatio = med['pdhooks webhook list --json'] / med['floor (node:http list)']
  const versionRatio = med['pdhooks --version'] / med['node -e 0']
  // issue 14: ≤ 1.6x on Node 24 (with Node's compile cache), ≤ 2.0x on Node 20
  const listTarget = Number(/^v(\d+)/.exec(nodeVersion)?.[1]) >= 24 ? 1.6 : 2
  results.push(
    ['webhook list --json / floor', `${listRatio.toFixed(2)}x`, `≤ ${listTarget.toFixed(1)}x`, verdict(listRatio <= listTarget)],
    ['--version / bare node', `${versionRatio.toFixed(2)}x`, '≤ 1.2x', verdict(versionRatio <= 1.2)],
  )
  const gnuTime = ['/usr/bin/time', '/bin/time'].find(p => existsSync(p))
  if (gnuTime) {
    const r = spawnSync(gnuTime, ['-f', '%M', node, RUN, 'webhook', 'list', '--json'], {env: {...cleanEnv, PDHOOKS_CONFIG_DIR: configDir, ...env}, stdio: ['ignore', 'ignore', 'pipe']})
    const kb = Number(String(r.stderr).trim().split('\n').pop())
    results.push(['webhook list peak memory (max RSS)', `${(kb / 1024).toFixed(1)} MiB`, '< 100 MiB', verdict(kb / 1024 < 100)])
  } else results.push(['webhook list peak memory (max RSS)', 'n/a (no GNU time)', '< 100 MiB', '-'])
  sandbox.child.kill('SIGTERM')
}

async function bulkDelete() {
  const burst = 20
  const sandbox = await start([RUN, 'sandbox', '--port', '0', '--burst', String(burst)])
  const n = 40
  await createWebhooks(sandbox.url, n)
  await request('DELETE', `${sandbox.url}/sandbox/requests`)
  const requests = n + 1 // one list, then one DELETE per webhook
  const minimum = Math.floor((requests - 1) / burst) * 2000 // a rolling 2 s window of `burst` requests
  const ms = timeOnce([RUN, 'webhook', 'delete', '--all', '--yes'], sandbox.vars)
  const log = JSON.parse((await request('GET', `${sandbox.url}/sandbox/requests?path=/v1/webhooks`)).text)
  const limited = log.filter(r => r.status === 429).length
  const left = JSON.parse((await request('GET', `${sandbox.url}/v1/webhooks`, {headers: {'x-api-token': 'bench-check'}})).text).data.length
  console.log(`\nBulk delete of ${n} webhooks under a ${burst}-requests-per-2-seconds burst limit`)
  console.log(`  ${'time'.padEnd(30)} ${fmt(ms)} (least the limit allows for ${requests} requests: ${fmt(minimum)})`)
  console.log(`  ${'requests answered 429'.padEnd(30)} ${limited}; webhooks left: ${left}`)
  results.push(['bulk delete / rate-limit minimum', `${(ms / minimum).toFixed(2)}x`, '≤ 1.25x, no 429', verdict(ms / minimum <= 1.25 && limited === 0 && left === 0)])
  sandbox.child.kill('SIGTERM')
}

function rss(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
  } catch {
    return Number.NaN
  }
}

/** Drives a receiver with `total` POSTs over `concurrency` keep-alive connections; returns requests/s. */
async function drive(url, total, concurrency, body, onProgress) {
  const agent = new http.Agent({keepAlive: true, maxSockets: concurrency})
  let sent = 0
  let done = 0
  let failed = 0
  const t = process.hrtime.bigint()
  const worker = async () => {
    while (sent < total) {
      sent++
      const r = await request('POST', url, {agent, body, headers: {'content-type': 'application/json'}})
      if (r.status !== 200) failed++
      done++
      if (onProgress && done % 5000 === 0) onProgress(done)
    }
  }

  await Promise.all(Array.from({length: concurrency}, worker))
  agent.destroy()
  const s = Number(process.hrtime.bigint() - t) / 1e9
  return {failed, rps: total / s}
}

async function listenThroughput() {
  const dir = mkdtempSync(join(tmpdir(), 'pdhooks-bench-journal-'))
  const journal = join(dir, 'deliveries.ndjson')
  const body = JSON.stringify({
    data: {
      id: 42, status: 'open', title: 'Acme renewal', value: 12_000,
    }, meta: {
      action: 'change', attempt: 1, entity: 'deal', entity_id: '42', id: 'bench', version: '2.0', webhook_id: '7',
    }, previous: {value: 10_000},
  })
  const listen = await start([RUN, 'listen', '--port', '0', '--journal', journal])
  const raw = await start([join(root, 'bench', 'raw-server.js')])
  const total = Number(process.env.BENCH_DELIVERIES ?? 50_000)
  const concurrency = 16
  const warm = 2000
  await drive(raw.url + '/', warm, concurrency, body)
  await drive(listen.url + '/', warm, concurrency, body)
  const rawRun = await drive(raw.url + '/', total / 2, concurrency, body)
  const samples = []
  const listenRun = await drive(listen.url + '/', total, concurrency, body, () => samples.push(rss(listen.child.pid)))
  const rawRun2 = await drive(raw.url + '/', total / 2, concurrency, body)
  const rawRps = (rawRun.rps + rawRun2.rps) / 2
  listen.child.kill('SIGTERM')
  raw.child.kill('SIGTERM')
  await new Promise(r => {
    listen.child.once('exit', r)
  })
  const lines = readFileSync(journal, 'utf8').split('\n').filter(Boolean).length
  rmSync(dir, {force: true, recursive: true})
  const ratio = listenRun.rps / rawRps
  const growth = samples.length > 1 ? samples.at(-1) - samples[0] : Number.NaN
  console.log(`\nlisten throughput (journal on) against a bare node:http server answering 200, ${concurrency} keep-alive connections`)
  console.log(`  ${'bare node:http server'.padEnd(30)} ${rawRps.toFixed(0)} requests/s`)
  console.log(`  ${'pdhooks listen --journal'.padEnd(30)} ${listenRun.rps.toFixed(0)} requests/s over ${total} deliveries (${listenRun.failed} failed; journal: ${lines} lines for ${total + warm} deliveries)`)
  console.log(`  ${'listen RSS'.padEnd(30)} ${samples.map(x => x.toFixed(0)).join(' → ')} MiB (every 5,000 deliveries)`)
  results.push(
    ['listen / bare server requests/s', `${(ratio * 100).toFixed(0)}%`, '≥ 70%', verdict(ratio >= 0.7 && listenRun.failed === 0)],
    [`listen memory growth over ${total}`, `${growth.toFixed(1)} MiB`, 'flat (< 20 MiB)', verdict(growth < 20)],
  )
}

try {
  console.log(`pdhooks bench: node ${nodeVersion} (${node}), ${process.platform}-${process.arch}, load average ${loadavg().map(x => x.toFixed(2)).join(' ')}`)
  await startup()
  if (process.env.BENCH_ONLY !== 'startup') {
    await bulkDelete()
    await listenThroughput()
  }

  console.log('\nSummary')
  for (const [what, value, target, ok] of results) console.log(`  ${what.padEnd(38)} ${value.padStart(12)}   target ${target.padEnd(16)} ${ok}`)
} finally {
  for (const c of children) c.kill('SIGTERM')
  rmSync(configDir, {force: true, maxRetries: 5, recursive: true}) // a child may still be writing its compile cache
}
