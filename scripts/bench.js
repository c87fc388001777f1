// npm run bench: start-up and bulk-work figures of the CLI the user runs (bin/run.js), measured in one run against a
// local sandbox, beside the floors they are compared with. Prints medians, ratios and the targets of issue 8.
//   BENCH_ROUNDS=20 npm run bench      (default 15 rounds; each round runs every command once, alternating)
//   BENCH_ONLY=listen npm run bench    (only listen's throughput and memory: wrk; BENCH_WRK_RUNS, BENCH_WRK_SECONDS,
//                                       BENCH_WRK_CONNECTIONS, BENCH_FORWARD_SECONDS)
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
  const loadBefore = loadNow()
  for (const [args, e] of Object.values(cases)) timeOnce(args, e) // warm-up (and the code cache)
  for (let round = 0; round < ROUNDS; round++) {
    const order = Object.keys(cases)
    if (round % 2) order.reverse()
    for (const name of order) times[name].push(timeOnce(...cases[name]))
  }

  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
  console.log(`\nStart-up (median of ${ROUNDS} alternating runs, same machine, same run)`)
  console.log(`  load average (1, 5, 15 min): ${loadBefore} before, ${loadNow()} after`)
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

// ---------------------------------------------------------------------------------------------------------------
// listen throughput and bounded memory, measured by wrk (an independent load generator, not this Node process)

function rss(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
  } catch {
    return Number.NaN
  }
}

const WRK_CONNECTIONS = Number(process.env.BENCH_WRK_CONNECTIONS ?? 16)
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 5)
const WRK_RUNS = Number(process.env.BENCH_WRK_RUNS ?? 3)
const wrkArgs = (url, seconds = WRK_SECONDS) => ['-t1', `-c${WRK_CONNECTIONS}`, `-d${seconds}s`, '-s', join(root, 'bench', 'wrk-post.lua'), url]

function findWrk() {
  const r = spawnSync('/bin/sh', ['-c', 'command -v wrk'], {encoding: 'utf8'})
  return r.status === 0 ? r.stdout.trim() : null
}

/** Runs wrk against `url` (sampling `pid`'s RSS every second) and parses its summary. */
function wrk(bin, url, {pid, seconds} = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, wrkArgs(url, seconds), {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    const samples = []
    const timer = pid ? setInterval(() => samples.push(rss(pid)), 1000) : null
    child.stdout.on('data', d => {
      out += d
    })
    child.stderr.on('data', d => {
      out += d
    })
    child.on('error', reject)
    child.on('exit', code => {
      if (timer) clearInterval(timer)
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
      const total = Number(/(\d+) requests in/.exec(out)?.[1])
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0)
      if (code !== 0 || Number.isNaN(rps)) reject(new Error(`wrk failed (${code}): ${out}`))
      else resolve({
        non2xx, ok: total - non2xx, rps, samples, total,
      })
    })
  })
}

const stopped = child => new Promise(resolve => {
  if (child.exitCode === null) {
    child.once('exit', resolve)
  } else {
    resolve()
  }
})
const loadNow = () => loadavg().map(x => x.toFixed(2)).join(' ')
const lines = file => readFileSync(file, 'utf8').split('\n').filter(Boolean).length
const pct = x => `${(x * 100).toFixed(0)}%`
const spread = xs => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`

async function listenThroughput() {
  const bin = findWrk()
  if (!bin) {
    console.log('\nlisten throughput: SKIPPED, wrk is not installed (the load must come from outside the measured process).')
    console.log('  Install it with: sudo apt-get install wrk   (Debian / Ubuntu), then run npm run bench again.')
    results.push(['listen / bare server requests/s', 'skipped', '≥ 50%', 'SKIP (no wrk)'])
    return
  }

  const dir = mkdtempSync(join(tmpdir(), 'pdhooks-bench-journal-'))
  const journal = join(dir, 'deliveries.ndjson')
  const synced = join(dir, 'synced.ndjson')
  const raw = await start([join(root, 'bench', 'raw-server.js')])
  const listen = await start([RUN, 'listen', '--port', '0', '--journal', journal])
  const listenSync = await start([RUN, 'listen', '--port', '0', '--journal', synced, '--journal-sync'])
  const servers = {bare: raw, listen, 'listen --journal-sync': listenSync}
  const loadBefore = loadNow()
  // warm-up, then runs alternating between the three servers
  for (const s of Object.values(servers)) await wrk(bin, s.url + '/', {seconds: 1})
  const runs = Object.fromEntries(Object.keys(servers).map(k => [k, []]))
  const counted = {listen: 0, 'listen --journal-sync': 0}
  const samples = []
  for (let i = 0; i < WRK_RUNS; i++) {
    for (const [name, s] of Object.entries(servers)) {
      const r = await wrk(bin, s.url + '/', {pid: name === 'listen' ? s.child.pid : undefined})
      runs[name].push(r.rps)
      if (name in counted) counted[name] += r.ok
      if (name !== 'bare' && r.non2xx > 0) throw new Error(`${name} answered ${r.non2xx} non-2xx`)
      if (name === 'listen') samples.push(...r.samples)
    }
  }

  const loadAfter = loadNow()
  for (const s of Object.values(servers)) s.child.kill('SIGTERM')
  await Promise.all(Object.values(servers).map(s => stopped(s.child)))
  // every 2xx counted by wrk has its line (the warm-up's and the answers wrk cut off at its end add a few more)
  const kept = {listen: lines(journal), 'listen --journal-sync': lines(synced)}
  rmSync(dir, {force: true, recursive: true})
  const med = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]))
  const ratios = runs.listen.map((x, i) => x / runs.bare[i])
  const syncRatios = runs['listen --journal-sync'].map((x, i) => x / runs.bare[i])
  console.log(`\nlisten throughput: wrk ${wrkArgs('URL').join(' ').replace(join(root, '/'), '')}, ${WRK_RUNS} alternating runs`)
  console.log(`  load average (1, 5, 15 min): ${loadBefore} before, ${loadAfter} after (2 cores shared)`)
  for (const [name, v] of Object.entries(runs)) {
    console.log(`  ${name.padEnd(30)} median ${med[name].toFixed(0)} requests/s (runs: ${v.map(x => x.toFixed(0)).join(', ')})`)
  }

  for (const name of Object.keys(kept)) {
    console.log(`  ${`${name} journal`.padEnd(30)} ${kept[name]} lines for ${counted[name]} answers 200 counted by wrk`)
  }

  console.log(`  ${'listen RSS'.padEnd(30)} ${samples.map(x => x.toFixed(0)).join(' → ')} MiB (every second of its runs)`)
  const ratio = median(ratios)
  const growth = samples.length > 1 ? samples.at(-1) - samples[0] : Number.NaN
  const allKept = Object.keys(kept).every(k => kept[k] >= counted[k])
  results.push(
    ['listen --journal / bare requests/s', `${pct(ratio)} (${spread(ratios.map(x => x * 100))}%)`, '≥ 50%', verdict(ratio >= 0.5)],
    ['listen --journal-sync / bare', `${pct(median(syncRatios))} (${spread(syncRatios.map(x => x * 100))}%)`, 'reported', '-'],
    ['every 200 has its journal line', allKept ? 'yes' : 'NO', 'yes', verdict(allKept)],
    ['listen memory over its wrk runs', `${growth.toFixed(1)} MiB`, 'flat (< 20 MiB)', verdict(growth < 20)],
  )
  await forwardToBlackHole(bin)
}

/** listen relaying to a target that never answers: memory stays bounded, the overflow is answered 503, Ctrl-C ends it. */
async function forwardToBlackHole(bin) {
  const dir = mkdtempSync(join(tmpdir(), 'pdhooks-bench-forward-'))
  const hole = await start([join(root, 'bench', 'black-hole.js')])
  const listen = await start([RUN, 'listen', '--port', '0', '--journal', join(dir, 'd.ndjson'), '--forward-to', hole.url + '/'])
  const seconds = Number(process.env.BENCH_FORWARD_SECONDS ?? 10)
  const before = rss(listen.child.pid)
  const r = await wrk(bin, listen.url + '/', {pid: listen.child.pid, seconds})
  const peak = Math.max(before, ...r.samples)
  let stderr = ''
  listen.child.stderr.on('data', d => {
    stderr += d
  })
  const t = process.hrtime.bigint()
  listen.child.kill('SIGINT')
  await stopped(listen.child)
  const exitS = Number(process.hrtime.bigint() - t) / 1e9
  hole.child.kill('SIGTERM')
  rmSync(dir, {force: true, recursive: true})
  const unforwarded = /(\d+) accepted deliver(?:y was|ies were) not forwarded/.exec(stderr)?.[1] ?? '0'
  console.log(`\nlisten --forward-to a target that never answers, wrk for ${seconds} s`)
  console.log(`  ${'answers'.padEnd(30)} ${r.ok} × 200, ${r.non2xx} × 503 (relay queue full)`)
  console.log(`  ${'listen RSS'.padEnd(30)} ${before.toFixed(0)} → ${r.samples.map(x => x.toFixed(0)).join(' → ')} MiB`)
  console.log(`  ${'Ctrl-C'.padEnd(30)} exited ${listen.child.exitCode ?? listen.child.signalCode} after ${exitS.toFixed(1)} s, reporting ${unforwarded} not forwarded`)
  results.push(
    // bounded, not flat: 1000 queued deliveries, and V8 collects the garbage of tens of thousands of 503s lazily
    ['forward to a dead target: peak RSS growth', `${(peak - before).toFixed(1)} MiB`, '< 100 MiB, 503s', verdict(peak - before < 100 && r.non2xx > 0)],
    ['forward to a dead target: Ctrl-C exit', `${exitS.toFixed(1)} s`, '≤ 10 s', verdict(exitS <= 10 && Number(unforwarded) > 0)],
  )
}

try {
  console.log(`pdhooks bench: node ${nodeVersion} (${node}), ${process.platform}-${process.arch}, load average ${loadavg().map(x => x.toFixed(2)).join(' ')}`)
  const only = process.env.BENCH_ONLY
  if (!only || only === 'startup') await startup()
  if (!only) await bulkDelete()
  if (!only || only === 'listen') await listenThroughput()
  console.log('\nSummary')
  for (const [what, value, target, ok] of results) console.log(`  ${what.padEnd(38)} ${value.padStart(12)}   target ${target.padEnd(16)} ${ok}`)
} finally {
  // each child writes its compile cache as it exits (Node >= 22.8): the folder goes once they are gone
  await Promise.all(children.map(c => (c.exitCode !== null || c.signalCode !== null
    ? undefined
    : new Promise(resolve => {
      const kill = setTimeout(() => c.kill('SIGKILL'), 5000)
      c.once('exit', () => resolve(clearTimeout(kill)))
      c.kill('SIGTERM')
    }))))
  rmSync(configDir, {force: true, maxRetries: 5, recursive: true})
}
