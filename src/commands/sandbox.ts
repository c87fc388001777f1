import * as Flags from '@oclif/core/flags'
import {
  readFileSync, renameSync, rmSync, writeFileSync,
} from 'node:fs'

import {BaseCommand} from '../lib/cli/base-command.js'
import {ExitCode, PdhooksError} from '../lib/core/errors.js'

export interface SandboxResult {
  env: Record<string, string>
  url: string
}

/** Removes an env file an earlier sandbox wrote; any other file at that path is a usage error (never overwritten). */
function clearEnvFile(file: string): void {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error: any) {
    if (error?.code === 'ENOENT') return
    throw new PdhooksError(`Cannot use --export-file ${file} (${error?.code ?? error}).`, {exit: ExitCode.usage, hint: 'Give the path of a file in a writable folder.'})
  }

  if (!/^(export PDHOOKS_\w+=.*\n)*$/.test(text)) {
    throw new PdhooksError(`--export-file ${file} exists and was not written by pdhooks sandbox.`, {exit: ExitCode.usage, hint: 'Give another path; pdhooks does not overwrite it.'})
  }

  rmSync(file, {force: true})
}

/** Removes the env file at exit, unless something else has replaced it meanwhile. */
function removeIfOurs(file: string, content: string): void {
  try {
    if (readFileSync(file, 'utf8') === content) rmSync(file)
  } catch {}
}

export default class Sandbox extends BaseCommand<typeof Sandbox, SandboxResult> {
  static description = `Run a local emulator of the three services: Cloud Elements (/elements/api-v2), Pipedrive (/v1 and /api/v1) and Pipeliner (/api/v100/rest/spaces/sandbox).

It validates requests and answers with the documented status codes, error bodies, the 40-webhook limit and rate-limit headers; any non-empty credentials work. It also delivers: POST /sandbox/events {"object":"deal","action":"change",…} sends the matching Pipedrive webhook deliveries (v1 or v2, basic auth), deliveries that reach an instance's callback URL are normalized, signed and posted to its event.notification.callback.url, and Pipeliner webhooks get their arrays. Test hooks: POST /sandbox/faults, GET /sandbox/requests, POST /sandbox/reset. Prints the variables that point pdhooks at it on stdout (or writes them to --export-file once it listens, for a shell to source), and "Ready: <url>" on stderr; Ctrl-C stops it.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --export-file .sandbox.env &   # then: until [ -s .sandbox.env ]; do sleep 0.1; done; . ./.sandbox.env',
    '<%= config.bin %> <%= command.id %> --port 0 --data sandbox.json --burst 10 --time-scale 0.01',
  ]
  static flags = {
    burst: Flags.integer({default: 20, description: 'Pipedrive burst limit: requests per token per 2 s (0 = unlimited).', min: 0}),
    data: Flags.string({description: 'Keep the state in this file (written atomically after each change).'}),
    // not --env-file: Node 20 reads any argument starting with --env-file as its own option (nodejs/node#54232)
    'export-file': Flags.string({description: 'Write the export lines to this file (mode 0600) once the sandbox listens, instead of stdout; removed when it stops.'}),
    host: Flags.string({default: '127.0.0.1', description: 'Interface to listen on.'}),
    port: Flags.integer({
      default: 4010, description: 'Port (0 = any free port).', max: 65_535, min: 0,
    }),
    'time-scale': Flags.string({default: '1', description: "Multiplies Pipedrive's delivery timings (timeout, retries, bans, auto-delete) and poll intervals, e.g. 0.001."}),
  }

  async run(): Promise<SandboxResult> {
    const {flags} = this
    const timeScale = Number(flags['time-scale'])
    if (!Number.isFinite(timeScale) || timeScale <= 0) throw new PdhooksError(`Invalid --time-scale "${flags['time-scale']}".`, {exit: ExitCode.usage, hint: 'Use a positive number such as 1 or 0.01.'})
    // a file left by an earlier run must not be sourced as if this one were ready; anything else is never overwritten
    if (flags['export-file']) clearEnvFile(flags['export-file'])
    const {startSandbox} = await import('../lib/sandbox/index.js')
    let sandbox
    try {
      sandbox = await startSandbox({
        burst: flags.burst,
        dataFile: flags.data,
        host: flags.host,
        log: process.env.DEBUG ? line => process.stderr.write(`sandbox ${line}\n`) : undefined,
        port: flags.port,
        timeScale,
      })
    } catch (error: any) {
      if (error?.code === 'EADDRINUSE') {
        throw new PdhooksError(`Port ${flags.port} is already in use.`, {code: 'port_in_use', exit: ExitCode.usage, hint: 'Pass --port with another port, or --port 0 for any free one.'})
      }

      throw new PdhooksError(`Cannot start the sandbox: ${error?.message ?? error}`, {exit: ExitCode.unexpected})
    }

    const env = sandbox.env()
    const exports = Object.entries(env).map(([k, v]) => `export ${k}=${v}\n`).join('')
    const envFile = flags['export-file']
    if (envFile) {
      try {
        // atomically: a shell waiting for the file never sources half of it
        writeFileSync(`${envFile}.${process.pid}.tmp`, exports, {mode: 0o600})
        renameSync(`${envFile}.${process.pid}.tmp`, envFile)
      } catch (error: any) {
        await sandbox.close()
        throw new PdhooksError(`Cannot write --export-file ${envFile} (${error?.code ?? error}).`, {exit: ExitCode.usage, hint: 'Give a path in a writable folder.'})
      }
    }

    if (this.jsonEnabled()) {
      this.logJson({env, url: sandbox.url})
    } else if (!envFile) {
      process.stdout.write(exports)
    }

    process.stderr.write(`Ready: ${sandbox.url}\n`)
    await this.untilStopped()
    await sandbox.close()
    if (envFile) removeIfOurs(envFile, exports)
    // the result was already printed (the command runs until stopped)
    return undefined as unknown as SandboxResult
  }
}
