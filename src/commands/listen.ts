import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../lib/base-command.js'
import {secret} from '../lib/cli/flags.js'
import {ExitCode, PdhooksError} from '../lib/errors.js'
import {registerSecret} from '../lib/mask.js'
import {parseBasicAuth} from '../lib/trigger.js'

export default class Listen extends BaseCommand<typeof Listen> {
  static description = `Receive webhook deliveries on this machine: recognise, verify, print, journal and relay them.

Recognises Pipedrive v1 and v2 deliveries, Cloud Elements notifications and Pipeliner arrays. Each source is checked by its own method, in constant time: basic auth for Pipedrive (--basic-auth), Elements-Webhook-Signature for Cloud Elements (--elements-key), WebHook-Signature (hex or base64) for Pipeliner (--pipeliner-key); a failed check is answered 401. With no check configured everything is accepted; once any is configured, a delivery from a source without one is refused. Prints one line per event (or one JSON object per line with --json), appends each accepted delivery to --journal (NDJSON, auth redacted, replayable), relays it to --forward-to and shows that endpoint's status and time. Bodies over the limit get 413, malformed JSON 400, other methods 405. Ends with Ctrl-C, or after --max-events accepted deliveries.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --port 4000 --basic-auth hooks:s3cret --journal deliveries.ndjson',
    '<%= config.bin %> <%= command.id %> --elements-key "$CE_SIGNATURE_KEY" --forward-to http://localhost:3000/events',
    '<%= config.bin %> <%= command.id %> --pipeliner-key 01234567-abcd-dcba-ffff-000000000000 --max-events 1 --json',
  ]
  static flags = {
    'basic-auth': secret('basic-auth', {description: 'user:password that Pipedrive deliveries must carry.'}),
    'elements-key': secret('elements-key', {description: 'Cloud Elements signature key (Elements-Webhook-Signature).'}),
    'forward-to': Flags.string({description: 'Relay each accepted delivery to this URL.'}),
    host: Flags.string({default: '127.0.0.1', description: 'Address to listen on.'}),
    journal: Flags.string({description: 'Append each accepted delivery to this NDJSON file.'}),
    'max-body': Flags.integer({default: 1_048_576, description: 'Largest accepted body in bytes (413 above).', min: 1}),
    'max-events': Flags.integer({description: 'Exit 0 after this many accepted deliveries.', min: 1}),
    path: Flags.string({default: '/', description: 'Path that receives deliveries.'}),
    'pipeliner-key': secret('pipeliner-key', {description: 'Pipeliner signature (the webhook\'s UUID) for WebHook-Signature.'}),
    port: Flags.integer({
      default: 4000, description: 'Port (0 = any free port).', max: 65_535, min: 0,
    }),
  }

  async run(): Promise<void> {
    const {flags} = this
    const basicAuth = parseBasicAuth(flags['basic-auth'])
    registerSecret(basicAuth?.password)
    registerSecret(flags['elements-key'])
    registerSecret(flags['pipeliner-key'])
    const {formatEvent, startListener} = await import('../lib/listener.js')
    let listener
    try {
      listener = await startListener({
        basicAuth,
        elementsKey: flags['elements-key'],
        forwardTo: flags['forward-to'],
        host: flags.host,
        journal: flags.journal,
        maxBodyBytes: flags['max-body'],
        maxEvents: flags['max-events'],
        path: flags.path,
        pipelinerKey: flags['pipeliner-key'],
        port: flags.port,
      })
    } catch (error: any) {
      if (error?.code === 'EADDRINUSE') throw new PdhooksError(`Port ${flags.port} is already in use.`, {code: 'port_in_use', exit: ExitCode.usage, hint: 'Pass --port with another port, or --port 0.'})
      throw error
    }

    const json = this.jsonEnabled()
    // stdout lines are batched: one write per tick keeps the receiver fast under load
    let buffer: string[] = []
    const flush = () => {
      if (buffer.length === 0) return
      process.stdout.write(buffer.join(''))
      buffer = []
    }

    const out = (line: string) => {
      if (buffer.length === 0) setImmediate(flush)
      buffer.push(line + '\n')
    }

    listener.on('event', e => out(json ? JSON.stringify(e) : formatEvent(e)))
    listener.on('rejected', r => {
      if (json) out(JSON.stringify({rejected: r}))
      else process.stderr.write(`${r.time}  rejected ${r.method} ${r.path}: ${r.status} ${r.reason}\n`)
    })
    listener.on('error', error => process.stderr.write(`Warning: ${error.message}\n`))
    if (listener.acceptsAll) process.stderr.write('No check configured: every delivery is accepted (use --basic-auth, --elements-key or --pipeliner-key).\n')
    if (flags.journal) process.stderr.write(`Journal: ${flags.journal}\n`)
    if (listener.forwardTarget) process.stderr.write(`Relaying to ${listener.forwardTarget}\n`)
    process.stderr.write(`Ready: ${listener.url}\n`)

    await this.untilStopped(new Promise<void>(resolve => {
      listener.once('done', () => resolve())
    }))
    await listener.close()
    flush()
    if (!json) process.stderr.write(`Stopped: ${listener.stats.accepted} accepted, ${listener.stats.rejected} rejected.\n`)
  }
}
