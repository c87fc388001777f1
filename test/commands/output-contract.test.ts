// The output contract of the base command: warn() into the --json document (stderr otherwise), one JSON shape and
// one exit rule for a bulk command some of whose items failed, and the exit code set in one place.
import {expect} from 'chai'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import http from 'node:http'
import {type AddressInfo} from 'node:net'
import {join} from 'node:path'

import type WebhookDelete from '../../src/commands/webhook/delete.js'
import type {WebhookDeleteResult} from '../../src/commands/webhook/delete.js'

import {type JsonOutput, type ResultOf} from '../../src/lib/cli/base-command.js'
import {root, run} from '../helpers.js'
import {captureServer, type CaptureServer} from '../receivers.js'

const DELETED_USER = 'Pipedrive documents a deleted user as a change.user that deactivates it (active_flag false): that is what is sent.'

/** A receiver that refuses the first delivery (401) and hangs up on the next (no answer). */
async function refusesThenHangsUp(): Promise<{close(): Promise<void>; url: string}> {
  let n = 0
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      n++
      if (n === 1) res.writeHead(401).end()
      else req.socket.destroy()
    })
  })
  await new Promise<void>(resolve => {
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    close: () => new Promise<void>(resolve => {
      server.close(() => resolve())
    }),
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
  }
}

describe('output contract (base command)', function () {
  this.timeout(30_000)
  let rec: CaptureServer | undefined

  afterEach(async () => {
    await rec?.close()
    rec = undefined
  })

  describe('warn()', () => {
    it('under --json: in the document\'s warnings, nothing on stderr; otherwise "Warning:" on stderr, nothing on stdout', async () => {
      rec = await captureServer()
      const json = await run(['trigger', 'delete.user', '--version', '2.0', '--to', rec.url, '--json'])
      expect(json.exit, json.stderr).to.equal(0)
      expect(json.json()).to.deep.include({ok: true, warnings: [DELETED_USER]})
      expect(json.stderr).to.equal('')
      const human = await run(['trigger', 'delete.user', '--version', '2.0', '--to', rec.url])
      expect(human.exit).to.equal(0)
      expect(human.stderr).to.contain(`Warning: ${DELETED_USER}`)
      expect(human.stdout).not.to.contain(DELETED_USER)
    })

    it('a command without warnings has no warnings field; a missing profile is a warning of auth status', async () => {
      rec = await captureServer()
      const quiet = await run(['trigger', 'change.deal', '--to', rec.url, '--json'])
      expect(quiet.json()).not.to.have.property('warnings')
      const status = await run(['auth:status', '--profile', 'nosuch', '--json'])
      expect(status.exit).to.equal(0)
      expect(status.json().warnings).to.have.length(1)
      expect(status.json().warnings[0]).to.match(/^Profile "nosuch" does not exist .* Showing the values flags and variables give\.$/)
    })

    it('warnings are kept in the document of a failure too, beside its error', async () => {
      const r = await run(['trigger', 'delete.user', '--version', '2.0', '--to', 'http://127.0.0.1:9/', '--json'])
      expect(r.exit).to.equal(6)
      const doc = r.json()
      expect(doc.warnings).to.deep.equal([DELETED_USER])
      expect(doc.error).to.include({code: 'unreachable', status: null})
    })
  })

  describe('partial failure: the result with error, the highest exit code of the failures', () => {
    it('trigger: a refusal is exit 1 (code rejected), with every delivery in the document', async () => {
      rec = await captureServer({status: 401})
      const r = await run(['trigger', 'change.deal', '--to', rec.url, '--count', '2', '--json'])
      expect(r.exit).to.equal(1)
      const doc = r.json()
      expect(doc.ok).to.equal(false)
      expect(doc.deliveries.map((d: any) => d.status)).to.deep.equal([401, 401])
      expect(doc.error).to.deep.equal({
        code: 'rejected', message: '2 of 2 deliveries were not accepted (401). Check the receiver\'s credentials or signature key.', status: null,
      })
      const human = await run(['trigger', 'change.deal', '--to', rec.url])
      expect(human.exit).to.equal(1)
      expect(human.stderr.trim()).to.equal('Error: 1 of 1 deliveries were not accepted (401). Check the receiver\'s credentials or signature key.')
    })

    it('trigger: a refusal and a delivery nobody answered is exit 6, the higher of 1 and 6 (same with and without --json)', async () => {
      for (const json of [true, false]) {
        const peer = await refusesThenHangsUp()
        try {
          const r = await run(['trigger', 'change.deal', '--to', peer.url, '--count', '2', ...(json ? ['--json'] : [])])
          expect(r.exit).to.equal(6)
          if (json) {
            const doc = r.json()
            expect(doc.deliveries.map((d: any) => d.status)).to.deep.equal([401, null])
            expect(doc.error.code).to.equal('unreachable')
            expect(doc.error.message).to.contain('Is the receiver running?').and.contain('Check the receiver\'s credentials')
          } else {
            expect(r.stderr).to.match(/^Error: 2 of 2 deliveries were not accepted \(401, .+\)\. Is the receiver running\?/m)
          }
        } finally {
          await peer.close()
        }
      }
    })
  })

  it('a command\'s result type is its --json document (typed from the class, for tests)', async () => {
    // a compile-time check first: ResultOf reads run()'s type from the command class
    const same: ResultOf<typeof WebhookDelete> extends WebhookDeleteResult ? (WebhookDeleteResult extends ResultOf<typeof WebhookDelete> ? true : false) : false = true
    expect(same).to.equal(true)
    const r = await run(['webhook:delete', '1', '--json'], {PDHOOKS_PIPEDRIVE_TOKEN: undefined})
    const doc: JsonOutput<Partial<WebhookDeleteResult>> = r.json()
    expect(r.exit).to.equal(3)
    expect(doc.error?.code).to.equal('no_credentials')
  })

  it('process.exitCode is set by the base command only: no command or library module sets it', () => {
    const files: string[] = []
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name)
        if (statSync(path).isDirectory()) walk(path)
        else if (path.endsWith('.ts')) files.push(path)
      }
    }

    walk(join(root, 'src'))
    const setters = files.filter(f => /process\.exitCode\s*=[^=]/.test(readFileSync(f, 'utf8'))).map(f => f.slice(root.length + 1))
    expect(setters).to.deep.equal(['src/lib/cli/base-command.ts'])
  })
})
