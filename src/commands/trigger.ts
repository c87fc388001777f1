import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../lib/base-command.js'
import {ExitCode, PdhooksError, usageError} from '../lib/errors.js'
import {parseTargetUrl} from '../lib/listener-send.js'
import {registerSecret} from '../lib/mask.js'
import {checkPipelinerKey} from '../lib/signatures.js'
import {
  buildDelivery, changeInSandbox, inferFormat, parseBasicAuth, sampleChange, sendDelivery, type TriggerFormat,
} from '../lib/trigger.js'
import {normalizePipedriveUrl} from '../lib/urls.js'

export interface TriggerResult {
  deliveries: Array<{description: string; error?: string; ms: number; n: number; status: null | number}>
  ok: boolean
  sandbox?: unknown
}

export default class Trigger extends BaseCommand<typeof Trigger> {
  static args = {
    event: Args.string({description: 'ACTION.OBJECT (Pipedrive, e.g. change.deal, added.person) or Entity.Event (Pipeliner, e.g. Opportunity.Update).', required: true}),
  }
  static description = `Send realistic sample deliveries to a receiver, authenticated or signed as the real service would.

Formats: pipedrive (v1 or v2 payload, Basic auth with --basic-auth), elements (the Cloud Elements notification, Elements-Webhook-Signature with --elements-key) and pipeliner (the delivery array, WebHook-Signature with --pipeliner-key). Prints the receiver's status and time for each; exits 0 only when every answer was 2xx. With --sandbox, a running sandbox makes the change for real (POST /sandbox/events), so the whole chain runs: Pipedrive webhooks → Cloud Elements → your app.`
  static examples = [
    '<%= config.bin %> <%= command.id %> change.deal --to http://127.0.0.1:4000/',
    '<%= config.bin %> <%= command.id %> added.person --to http://127.0.0.1:4000/ --basic-auth hooks:s3cret --set name="Ada Lovelace"',
    '<%= config.bin %> <%= command.id %> updated.deal --format elements --elements-key "$KEY" --to http://127.0.0.1:4000/ --count 3',
    '<%= config.bin %> <%= command.id %> Opportunity.Won --format pipeliner --pipeliner-key 01234567-abcd-dcba-ffff-000000000000 --to http://127.0.0.1:4000/',
    '<%= config.bin %> <%= command.id %> change.deal --sandbox   # the sandbox delivers to every matching webhook',
  ]
  static flags = {
    'basic-auth': Flags.string({description: 'Pipedrive format: send Basic auth user:password.'}),
    count: Flags.integer({
      default: 1, description: 'How many deliveries to send.', max: 10_000, min: 1,
    }),
    'elements-key': Flags.string({description: 'Elements format: sign with this key (Elements-Webhook-Signature).'}),
    format: Flags.string({description: 'Delivery format (default: pipeliner for Entity.Event, else pipedrive).', options: ['pipedrive', 'elements', 'pipeliner']}),
    instance: Flags.string({description: 'Elements format: instance id in the notification.', default: '20931'}),
    'pipeliner-key': Flags.string({description: 'Pipeliner format: sign with this signature UUID (WebHook-Signature, hex).'}),
    sandbox: Flags.boolean({description: 'Ask a running sandbox (--to, or PDHOOKS_PIPEDRIVE_URL\'s host) to make the change and deliver it.'}),
    set: Flags.string({description: 'Set a field of the sample object: field=value (dot paths; JSON values parsed). Repeatable.', multiple: true}),
    timeout: timeoutFlag,
    to: Flags.string({description: 'Receiver URL.'}),
    version: Flags.string({description: 'Pipedrive format: payload version (default: 1.0 for v1 words, else 2.0).', options: ['1.0', '2.0']}),
  }

  async run(): Promise<TriggerResult> {
    const {args, flags} = this
    const basicAuth = parseBasicAuth(flags['basic-auth'])
    registerSecret(basicAuth?.password)
    registerSecret(flags['elements-key'])
    registerSecret(flags['pipeliner-key'])
    const pipelinerKey = flags['pipeliner-key'] === undefined ? undefined : checkPipelinerKey(flags['pipeliner-key'], '--pipeliner-key')
    if (flags.sandbox) return this.viaSandbox()
    if (!flags.to) throw usageError('Missing --to URL.', 'Example: --to http://127.0.0.1:4000/ (start a receiver with "pdhooks listen").', 'missing_value')
    const to = parseTargetUrl(flags.to, '--to')
    const format = (flags.format ?? inferFormat(args.event)) as TriggerFormat
    const input = {
      basicAuth, elementsKey: flags['elements-key'], event: args.event, format, instanceId: flags.instance, pipelinerKey, sets: flags.set, version: flags.version,
    }
    buildDelivery(input) // validates before anything is sent
    const deliveries: TriggerResult['deliveries'] = []
    for (let n = 1; n <= flags.count; n++) {
      const d = buildDelivery(input, n - 1)
      const r = await sendDelivery(to, d, flags.timeout * 1000)
      deliveries.push({
        description: d.description, ...(r.error ? {error: r.error} : {}), ms: r.ms, n, status: r.status,
      })
      this.log(`${flags.count > 1 ? `#${n} ` : ''}${d.description} → ${r.status === null ? `no answer (${r.error})` : r.status} in ${r.ms} ms`)
    }

    return this.finish(deliveries)
  }

  private finish(deliveries: TriggerResult['deliveries'], sandbox?: unknown): TriggerResult {
    const bad = deliveries.filter(d => d.status === null || d.status < 200 || d.status >= 300)
    const result: TriggerResult = {deliveries, ok: bad.length === 0, ...(sandbox === undefined ? {} : {sandbox})}
    if (bad.length > 0) {
      const unreachable = bad.every(d => d.status === null)
      const err = new PdhooksError(`${bad.length} of ${deliveries.length} deliveries were not accepted (${[...new Set(bad.map(d => d.status ?? d.error))].join(', ')}).`, {
        code: unreachable ? 'unreachable' : 'rejected',
        exit: unreachable ? ExitCode.unavailable : ExitCode.unexpected,
        hint: unreachable ? 'Is the receiver running? Start one with "pdhooks listen".' : 'Check the receiver\'s credentials or signature key.',
      })
      if (this.jsonEnabled()) {
        process.exitCode = err.exit
        return result
      }

      throw err
    }

    return result
  }

  private async viaSandbox(): Promise<TriggerResult> {
    const {args, flags} = this
    const base = flags.to ? parseTargetUrl(flags.to, '--to').origin : new URL(normalizePipedriveUrl(await this.settings().value('pipedriveUrl'))).origin
    const {change} = sampleChange(args.event, flags.set)
    const {body, deliveries} = await changeInSandbox(base, change, flags.timeout * 1000)
    if (deliveries.length === 0) this.log(`No active webhook matches ${change.action}.${change.object}: nothing was delivered.`)
    for (const d of deliveries) this.log(`${d.description}: ${d.status ?? `no answer (${d.error})`} in ${d.ms} ms`)
    return this.finish(deliveries, body)
  }
}
