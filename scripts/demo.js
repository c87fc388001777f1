// npm run demo: the whole workflow on this machine, with no account and no network. A local sandbox plays Pipedrive and
// Cloud Elements; `pdhooks setup` wires a connector instance and its Pipedrive webhook to `pdhooks listen` ("your app");
// a deal changes; the normalized, signed Cloud Elements notification arrives; `pdhooks webhook list` shows the delivery's
// health; everything is deleted again. Exits non-zero, saying which step failed, when anything goes wrong.
import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {request} from 'node:http'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {buildIsStale} from './manifest-guard.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const started = Date.now()
const color = process.stdout.isTTY && !process.env.NO_COLOR
const bold = s => (color ? `\u001B[1m${s}\u001B[22m` : s)
const dim = s => (color ? `\u001B[2m${s}\u001B[22m` : s)

// Demo values: the sandbox accepts any non-empty credentials.
const DEMO = {
  email: 'demo@example.com',
  password: 'demo-password',
  signatureKey: 'demo-signature-key',
}

class DemoError extends Error {}

let stepNo = 0
let stepName = ''
function step(title) {
  stepNo++
  stepName = title
  console.log(`\n${bold(`${stepNo}. ${title}`)}`)
}

const indent = text => text.replace(/\n$/, '').split('\n').map(l => `   ${l}`).join('\n')

/** Shows a command line the way it would be typed in a shell. */
const shellLine = args => ['pdhooks', ...args.map(a => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", String.raw`'\''`)}'`))].join(' ')

// ---------------------------------------------------------------------------------------------------------------
// Build (only when dist/ or oclif.manifest.json is missing or older than src/: the rule of scripts/manifest-guard.js)

function buildIfNeeded() {
  if (!buildIsStale(root)) {
    console.log(indent('The build is up to date.'))
    return
  }

  console.log(indent(dim('$ npm run build')))
  execFileSync(process.execPath, [join(root, 'scripts', 'build.js')], {cwd: root, stdio: ['ignore', 'ignore', 'inherit']})
  console.log(indent('Built dist/ and oclif.manifest.json.'))
}

// ---------------------------------------------------------------------------------------------------------------
// pdhooks as a child process, its output shown indented as it comes

let childEnv = {}

/** Writes a child's output indented, line by line, as it comes; the lines are also collected. */
function lineRelay(sink) {
  const out = {partial: '', text: ''}
  out.write = chunk => {
    const s = chunk.toString('utf8')
    out.text += s
    const lines = (out.partial + s).split('\n')
    out.partial = lines.pop()
    for (const line of lines) sink.write(line.trim() === '' ? '\n' : `   ${line}\n`)
  }

  out.end = () => {
    if (out.partial !== '') sink.write(`   ${out.partial}\n`)
    out.partial = ''
  }

  return out
}

function pdhooks(args, {expectCode = 0} = {}) {
  console.log(indent(dim(`$ ${shellLine(args)}`)))
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'run.js'), ...args], {cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe']})
    const stdout = lineRelay(process.stdout)
    // stderr is shown in the same stream so that the demo reads in order when piped
    const stderr = lineRelay(process.stdout)
    child.stdout.on('data', stdout.write)
    child.stderr.on('data', stderr.write)
    child.once('error', reject)
    child.once('close', code => {
      stdout.end()
      stderr.end()
      if (code === expectCode) resolve({code, stderr: stderr.text, stdout: stdout.text})
      else reject(new DemoError(`"${shellLine(args)}" exited with ${code} (expected ${expectCode})`))
    })
  })
}

/** The inherited environment without PDHOOKS_* or DEBUG, plus the sandbox's variables and a throw-away config dir. */
function demoEnv(sandboxEnv, configDir) {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PDHOOKS_') && k !== 'DEBUG') env[k] = v
  return {...env, ...sandboxEnv, PDHOOKS_CONFIG_DIR: configDir}
}

/** `pdhooks sandbox --port 0` as a child process: its URL (the "Ready:" line) and its exported variables. */
function startSandbox() {
  return new Promise((resolve, reject) => {
    const env = {}
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PDHOOKS_') && k !== 'DEBUG') env[k] = v
    const child = spawn(process.execPath, [join(root, 'bin', 'run.js'), 'sandbox', '--port', '0'], {env, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout.on('data', d => {
      out += d
    })
    child.stderr.on('data', d => {
      err += d
      const m = /Ready: (\S+)/.exec(err)
      if (!m) return
      const vars = Object.fromEntries([...out.matchAll(/^export (\w+)=(.*)$/gm)].map(x => [x[1], x[2]]))
      resolve({
        close: () => new Promise(done => {
          child.once('exit', done)
          child.kill('SIGTERM')
        }),
        env: () => vars,
        url: m[1].replace(/\/$/, ''),
      })
    })
    child.on('exit', code => reject(new DemoError(`pdhooks sandbox exited (${code}): ${err.trim()}`)))
  })
}

// ---------------------------------------------------------------------------------------------------------------
// A small HTTP request helper (for the sandbox's test hooks)

function call(method, url, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = request(url, {headers: payload ? {'content-length': Buffer.byteLength(payload), 'content-type': 'application/json'} : {}, method}, res => {
      const chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }

        resolve({json, status: res.statusCode, text})
      })
    })
    req.once('error', reject)
    req.end(payload)
  })
}

// ---------------------------------------------------------------------------------------------------------------
// "Your app": `pdhooks listen` as a child process. It checks Elements-Webhook-Signature with the instance's key, prints
// one JSON line per event (--json) and journals each delivery, from which the demo shows the notification's body.

function startReceiver({path = '/app/events', signatureKey, journal}) {
  const args = ['listen', '--port', '0', '--path', path, '--elements-key', signatureKey, '--journal', journal, '--json']
  console.log(indent(dim(`${shellLine(args)} &`)))
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'run.js'), ...args], {env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
    const events = []
    const waiters = []
    let out = ''
    let err = ''
    child.stdout.on('data', d => {
      out += d
      let nl
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl)
        out = out.slice(nl + 1)
        if (!line.trim()) continue
        const e = JSON.parse(line)
        console.log(`   ${bold('[pdhooks listen]')} ${e.rejected ? `rejected ${e.rejected.method} ${e.rejected.path}: ${e.rejected.status} ${e.rejected.reason}` : `${e.source} ${e.action}.${e.object} ${e.objectId ?? '-'} ${e.verified ? 'verified' : 'NOT verified'}`}`)
        if (!e.rejected) events.push(e)
        for (const w of waiters.splice(0)) w()
      }
    })
    child.stderr.on('data', d => {
      err += d
      const m = /Ready: (\S+)/.exec(err)
      if (!m) return
      let taken = 0
      resolve({
        close: () => new Promise(done => {
          child.once('exit', done)
          child.kill('SIGTERM')
        }),
        async nextEvent(timeoutMs) {
          const deadline = Date.now() + timeoutMs
          while (events.length <= taken) {
            const left = deadline - Date.now()
            if (left <= 0) throw new DemoError(`no notification reached pdhooks listen within ${timeoutMs / 1000} s`)
            await new Promise(done => {
              const t = setTimeout(done, left)
              waiters.push(() => {
                clearTimeout(t)
                done()
              })
            })
          }

          const event = events[taken++]
          // the journal holds the delivery as received (written in batches every few milliseconds): its body
          let entry
          for (let tries = 0; !entry && tries < 50; tries++) {
            const lines = readFileSync(journal, 'utf8').split('\n').filter(l => l.endsWith('}'))
            entry = lines.map(l => JSON.parse(l)).find(j => j.id === event.id)
            if (!entry) await new Promise(done => {
              setTimeout(done, 20)
            })
          }

          return {body: entry ? JSON.parse(entry.body) : undefined, signed: event.verified === true}
        },
        url: m[1],
      })
    })
    child.on('exit', code => reject(new DemoError(`pdhooks listen exited (${code}): ${err.trim()}`)))
  })
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  /** Undo actions, run last-in first-out whatever happens. */
  const cleanups = []
  let failed
  let failedAt = ''
  try {
    console.log(bold('pdhooks demo: a Pipedrive deal change, through a Cloud Elements connector instance, to your app.'))
    console.log(dim('Everything runs on this machine against a local sandbox: no account, no network.'))

    step('Build pdhooks (when needed)')
    buildIfNeeded()

    step('Start the sandbox (Pipedrive, Cloud Elements and Pipeliner emulated on loopback)')
    console.log(indent(dim('$ pdhooks sandbox --port 0 &')))
    const sandbox = await startSandbox()
    cleanups.push(['stop the sandbox', () => sandbox.close()])
    const configDir = mkdtempSync(join(tmpdir(), 'pdhooks-demo-'))
    cleanups.push(['remove the temporary config dir', () => rmSync(configDir, {force: true, recursive: true})])
    childEnv = demoEnv(sandbox.env(), configDir)
    console.log(indent(`Sandbox ready at ${sandbox.url}. pdhooks is pointed at it with:`))
    for (const [k, v] of Object.entries(sandbox.env())) console.log(indent(dim(`export ${k}=${v}`)))
    console.log(indent(dim(`export PDHOOKS_CONFIG_DIR=${configDir}   (a throw-away profile)`)))

    step('Start your app\'s receiver: pdhooks listen, which verifies what the platform sends')
    const receiver = await startReceiver({journal: join(configDir, 'deliveries.ndjson'), signatureKey: DEMO.signatureKey})
    cleanups.push(['stop pdhooks listen', () => receiver.close()])
    console.log(indent(`Listening at ${receiver.url} (Elements-Webhook-Signature checked with the key "${DEMO.signatureKey}").`))

    step('Wire it up: pdhooks setup (instance → callback URL → Pipedrive webhook → live check)')
    await pdhooks([
      'setup',
      '--name',
      'demo',
      '--callback-url',
      receiver.url,
      '--signature-key',
      DEMO.signatureKey,
      '--pipedrive-email',
      DEMO.email,
      '--pipedrive-password',
      DEMO.password,
      '--event',
      '*.deal',
      '--yes',
    ])
    const state = (await call('GET', `${sandbox.url}/sandbox/state`)).json
    const instance = state?.elements?.instances?.find(i => i.name === 'demo')
    if (!instance) throw new DemoError('setup reported success but the sandbox has no instance named "demo"')
    cleanups.push(['delete the instance and its webhooks', async () => {
      await pdhooks(['instance', 'delete', String(instance.id), '--with-webhooks', '--yes'])
    }])
    const hooks = state.pipedrive.webhooks
    if (hooks.length === 0) throw new DemoError('setup reported success but no Pipedrive webhook exists')

    step('Change a deal in the sandbox\'s Pipedrive')
    const change = {
      action: 'change', data: {
        currency: 'USD', id: 1, status: 'open', title: 'Big deal', value: 5000,
      }, id: 1, object: 'deal', previous: {value: 1000},
    }
    console.log(indent(dim(`$ curl -X POST ${sandbox.url}/sandbox/events -H 'content-type: application/json' -d '${JSON.stringify(change)}'`)))
    const sent = await call('POST', `${sandbox.url}/sandbox/events`, change)
    if (sent.status !== 200) throw new DemoError(`the sandbox refused the change (${sent.status}): ${sent.text}`)
    for (const d of sent.json.deliveries) {
      console.log(indent(`Pipedrive delivered webhook ${d.webhook_id} to ${d.url}: HTTP ${d.status} in ${d.ms} ms`))
    }

    if (!sent.json.deliveries.some(d => d.status >= 200 && d.status < 300)) throw new DemoError('no webhook delivery succeeded')

    step('The normalized event arrives at your app')
    const event = await receiver.nextEvent(10_000)
    if (!event.signed) throw new DemoError('the notification\'s signature did not verify')
    const message = event.body?.message
    const first = message?.events?.[0]
    if (!first) throw new DemoError(`the notification has no events: ${JSON.stringify(event.body)}`)
    console.log(indent(`Instance ${message.instanceId}: ${first.objectType} ${first.objectId} ${first.eventType} (from ${first.elementKey}, ${first.date})`))
    console.log(indent(dim(JSON.stringify({message: {...message, raw: '(the Pipedrive delivery as received, elided here)'}}, null, 2))))

    step('Check the webhook\'s health')
    const list = await pdhooks(['webhook', 'list'])
    if (!/\b200\s+ok\b/.test(list.stdout)) throw new DemoError('webhook list does not show the last delivery as 200 / ok')
  } catch (error) {
    failed = error
    failedAt = `step ${stepNo} ("${stepName}")`
  }

  step('Clean up')
  for (const [what, fn] of cleanups.reverse()) {
    try {
      await fn()
      console.log(indent(`Done: ${what}.`))
    } catch (error) {
      console.error(indent(`Could not ${what}: ${error.message}`))
      if (!failed) {
        failed = error
        failedAt = 'clean-up'
      }
    }
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  if (failed) {
    console.error(`\nDemo failed at ${failedAt}: ${failed.message}`)
    if (!(failed instanceof DemoError) && process.env.DEBUG) console.error(failed.stack)
    process.exit(1)
  }

  console.log(`\n${bold(`Demo complete in ${seconds} s.`)} Next: "pdhooks sandbox" keeps a sandbox running for your own tries; "pdhooks setup --help" shows every flag.`)
}

let interrupted = false
process.on('SIGINT', () => {
  if (interrupted) process.exit(130)
  interrupted = true
  console.error('\nInterrupted: cleaning up (Ctrl-C again to quit at once).')
})

await main()
