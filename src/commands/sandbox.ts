import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../lib/base-command.js'
import {ExitCode, PdhooksError} from '../lib/errors.js'

export interface SandboxResult {
  env: Record<string, string>
  url: string
}

export default class Sandbox extends BaseCommand<typeof Sandbox> {
  static description = `Run a local emulator of the three services: Cloud Elements (/elements/api-v2), Pipedrive (/v1 and /api/v1) and Pipeliner (/api/v100/rest/spaces/sandbox).

It validates requests and answers with the documented status codes, error bodies, the 40-webhook limit and rate-limit headers; any non-empty credentials work. It also delivers: POST /sandbox/events {"object":"deal","action":"change",…} sends the matching Pipedrive webhook deliveries (v1 or v2, basic auth), deliveries that reach an instance's callback URL are normalized, signed and posted to its event.notification.callback.url, and Pipeliner webhooks get their arrays. Test hooks: POST /sandbox/faults, GET /sandbox/requests, POST /sandbox/reset. Prints the variables that point pdhooks at it on stdout, and "Ready: <url>" on stderr; Ctrl-C stops it.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    'eval "$(<%= config.bin %> <%= command.id %> --port 4010 &)"   # then: pdhooks setup …',
    '<%= config.bin %> <%= command.id %> --port 0 --data sandbox.json --burst 10 --time-scale 0.01',
  ]
  static flags = {
    burst: Flags.integer({default: 20, description: 'Pipedrive burst limit: requests per token per 2 s (0 = unlimited).', min: 0}),
    data: Flags.string({description: 'Keep the state in this file (written atomically after each change).'}),
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
    if (this.jsonEnabled()) {
      this.logJson({env, url: sandbox.url})
    } else {
      for (const [k, v] of Object.entries(env)) process.stdout.write(`export ${k}=${v}\n`)
    }

    process.stderr.write(`Ready: ${sandbox.url}\n`)
    await this.untilStopped()
    await sandbox.close()
    // the result was already printed (the command runs until stopped)
    return undefined as unknown as SandboxResult
  }
}
