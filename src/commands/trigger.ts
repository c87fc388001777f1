import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand, type FlagReasons, timeoutFlag} from '../lib/cli/base-command.js'
import {basicAuthFlag, secret} from '../lib/cli/flags.js'
import {table} from '../lib/cli/output.js'
import {ExitCode, usageError} from '../lib/core/errors.js'
import {normalizePipedriveUrl} from '../lib/core/urls.js'
import {type CatalogEntry, sampleCatalog} from '../lib/deliveries/catalog.js'
import {customFieldHelp} from '../lib/deliveries/custom-fields.js'
import {fileDeliveries, readFileBodies} from '../lib/deliveries/from-file.js'
import {ELEMENTS_FORMS, type ElementsForm} from '../lib/deliveries/payloads.js'
import {parseTargetUrl} from '../lib/deliveries/send.js'
import {checkPipelinerKey} from '../lib/deliveries/signatures.js'
import {
  authenticateRaw, buildDeliveries, changeInSandbox, eventWarnings, inferFormat, parseBasicAuth, type SampleDelivery, sandboxRequest, sendDelivery, type TriggerFormat,
} from '../lib/deliveries/trigger.js'

export interface TriggerResult {
  deliveries: Array<{description: string; error?: string; ms: number; n: number; status: null | number}>
  ok: boolean
  sandbox?: unknown
}

export interface TriggerListResult {
  samples: CatalogEntry[]
}

export interface TriggerPrintResult {
  deliveries: Array<{body: unknown; description: string}>
}

export default class Trigger extends BaseCommand<typeof Trigger, TriggerListResult | TriggerPrintResult | TriggerResult> {
  static args = {
    // ignoreStdin: oclif would read piped standard input into a missing EVENT; --from - reads it instead
    event: Args.string({description: 'ACTION.OBJECT (Pipedrive, e.g. change.deal, added.person, merged.deal) or Entity.Event (Pipeliner, e.g. Opportunity.Update). Not with --from or --list.', ignoreStdin: true}),
  }
  static description = `Send realistic sample deliveries to a receiver, authenticated or signed as the real service would.

Formats: pipedrive (the v1 or v2 payload Pipedrive documents, Basic auth with --basic-auth), elements (the Cloud Elements notification with Pipedrive's body as "raw", Elements-Webhook-Signature with --elements-key) and pipeliner (the delivery array, WebHook-Signature with --pipeliner-key). Prints the receiver's status and time for each; exits 0 only when every answer was 2xx. With --sandbox, a running sandbox makes the change for real (POST /sandbox/events), so the whole chain runs: Pipedrive webhooks → Cloud Elements → your app.

Samples follow Pipedrive's documented examples (webhooks v2 migration guide; v1 guide) key for key; trigger --list shows them all. merged.OBJECT (deal, person, organization) sends a merge as documented: v1 "merged" then "deleted", v2 a "delete" (meta.merged_to_id) then a "change" (meta.merged_from_id). --format elements takes either vocabulary (change.deal and updated.deal are both UPDATED); --version picks the vendor body Pipedrive sent the platform (default 1.0).

--set changes the sample object after the change: field=value (dot paths; JSON values parsed, anything else a string), or a custom field of a documented type with custom_fields.KEY:TYPE=VALUE (v2: data.custom_fields.KEY = {type, value…}; v1: KEY and its KEY_… companions at the top level; custom_fields.KEY=null clears it):
${customFieldHelp()}

--from FILE sends your own payloads instead: a JSON file, or NDJSON lines (each a payload or a line of a listen journal; - reads standard input), each body byte for byte, authenticated or signed for its recognised format.`
  static examples = [
    '<%= config.bin %> <%= command.id %> change.deal --to http://127.0.0.1:4000/',
    '<%= config.bin %> <%= command.id %> added.person --to http://127.0.0.1:4000/ --basic-auth hooks:s3cret --set name="Ada Lovelace"',
    '<%= config.bin %> <%= command.id %> change.deal --to http://127.0.0.1:4000/ --set value=5000 --set custom_fields.dcf558aac1ae4e8c4f849ba5e668430d8df9be12:monetary="200 EUR"',
    '<%= config.bin %> <%= command.id %> merged.person --version 2.0 --to http://127.0.0.1:4000/   # two deliveries',
    '<%= config.bin %> <%= command.id %> change.deal --format elements --elements-key "$KEY" --to http://127.0.0.1:4000/ --count 3',
    '<%= config.bin %> <%= command.id %> Opportunity.Won --format pipeliner --pipeliner-key 01234567-abcd-dcba-ffff-000000000000 --to http://127.0.0.1:4000/',
    '<%= config.bin %> <%= command.id %> --from deliveries.ndjson --basic-auth hooks:s3cret --to http://127.0.0.1:3000/hooks',
    '<%= config.bin %> <%= command.id %> change.deal --sandbox   # the sandbox delivers to every matching webhook',
    '<%= config.bin %> <%= command.id %> --list [--json]',
    '<%= config.bin %> <%= command.id %> create.deal --print   # the body, without sending it',
  ]
  static flagReasons: FlagReasons = {
    'from sandbox': {hint: 'Send the file to a receiver with --to instead.', message: '--sandbox makes a sample change in the sandbox: it does not take --from.'},
    'from set': {hint: 'Edit the file instead.', message: '--from sends the file as it is: --set and --version do not apply.'},
    'from version': {hint: 'Edit the file instead.', message: '--from sends the file as it is: --set and --version do not apply.'},
    'print sandbox': {hint: 'Use one of them.', message: '--print shows a sample without sending it; --sandbox has the sandbox deliver it.'},
  }
  static flags = {
    'basic-auth': basicAuthFlag('Pipedrive format: send Basic auth user:password.'),
    count: Flags.integer({
      default: 1, description: 'How many deliveries to send.', max: 10_000, min: 1,
    }),
    'elements-form': Flags.string({
      default: 'message', description: 'Elements format: the notification body, {"message":{…}} or {eventId, instanceId, notificationId, response:{events}} (the references show both).', options: [...ELEMENTS_FORMS],
    }),
    'elements-key': secret('elements-key', {description: 'Elements format: sign with this key (Elements-Webhook-Signature).'}),
    format: Flags.string({description: 'Delivery format (default: pipeliner for Entity.Event, else pipedrive; with --from, recognised from each body).', options: ['pipedrive', 'elements', 'pipeliner']}),
    from: Flags.string({relationships: [{flags: ['set', 'version'], type: 'none'}], description: 'Send the payloads of FILE (JSON, or NDJSON lines: payloads or listen journal lines; - for stdin) instead of a sample.'}),
    instance: Flags.string({description: 'Elements format: instance id in the notification.', default: '20931'}),
    list: Flags.boolean({description: 'List every sample trigger can send (with --json: as JSON).'}),
    'pipeliner-key': secret('pipeliner-key', {description: 'Pipeliner format: sign with this signature UUID (WebHook-Signature, hex).'}),
    print: Flags.boolean({description: 'Print the sample bodies (pretty JSON, one document per delivery) instead of sending them: no --to needed.'}),
    sandbox: Flags.boolean({relationships: [{flags: ['print', 'from'], type: 'none'}], description: 'Ask a running sandbox (--to, or PDHOOKS_PIPEDRIVE_URL\'s host) to make the change and deliver it.'}),
    set: Flags.string({description: 'Set a field of the sample object: field=value, or custom_fields.KEY:TYPE=VALUE (types below). Repeatable.', multiple: true}),
    timeout: timeoutFlag,
    to: Flags.string({description: 'Receiver URL.'}),
    version: Flags.string({description: 'Pipedrive format: payload version (default: 1.0 for v1 words, else 2.0). Elements format: the vendor body\'s (default 1.0).', options: ['1.0', '2.0']}),
  }

  async run(): Promise<TriggerListResult | TriggerPrintResult | TriggerResult> {
    const {args, flags} = this
    if (flags.list) return this.list()
    const basicAuth = parseBasicAuth(flags['basic-auth'])
    const pipelinerKey = flags['pipeliner-key'] === undefined ? undefined : checkPipelinerKey(flags['pipeliner-key'], '--pipeliner-key')
    if (flags.from !== undefined && args.event !== undefined) throw usageError('Give an EVENT or --from FILE, not both.', 'trigger change.deal --to URL, or trigger --from payload.json --to URL.')
    if (flags.from === undefined && args.event === undefined) {
      throw usageError('Missing EVENT.', 'Example: pdhooks trigger change.deal --to http://127.0.0.1:4000/ (pdhooks trigger --list shows every sample).', 'missing_value')
    }

    if (flags.sandbox) return this.viaSandbox(args.event!)

    if (!flags.to && !flags.print) throw usageError('Missing --to URL.', 'Example: --to http://127.0.0.1:4000/ (start a receiver with "pdhooks listen"), or --print to see the bodies.', 'missing_value')
    const keys = {basicAuth, elementsKey: flags['elements-key'], pipelinerKey}
    let batch: (n: number) => SampleDelivery[]
    if (flags.from === undefined) {
      const input = {
        ...keys, elementsForm: flags['elements-form'] as ElementsForm, event: args.event!, format: (flags.format ?? inferFormat(args.event!)) as TriggerFormat, instanceId: flags.instance, sets: flags.set, version: flags.version,
      }
      buildDeliveries(input) // validates before anything is sent
      for (const w of eventWarnings(input)) this.warn(w)
      batch = n => buildDeliveries(input, n)
    } else {
      const deliveries = fileDeliveries(await readFileBodies(flags.from), {
        authenticate: (format, body, headers) => authenticateRaw(format, body, headers, keys), format: flags.format as TriggerFormat | undefined,
      })
      batch = () => deliveries
    }

    if (flags.print) return this.print(flags.count, batch)
    const to = parseTargetUrl(flags.to!, '--to')
    const deliveries: TriggerResult['deliveries'] = []
    const first = batch(0)
    const numbered = flags.count > 1 || first.length > 1
    for (let i = 0; i < flags.count; i++) {
      for (const d of i === 0 ? first : batch(i)) {
        const n = deliveries.length + 1
        const r = await sendDelivery(to, d, flags.timeout * 1000)
        deliveries.push({
          description: d.description, ...(r.error ? {error: r.error} : {}), ms: r.ms, n, status: r.status,
        })
        this.log(`${numbered ? `#${n} ` : ''}${d.description} → ${r.status === null ? `no answer (${r.error})` : r.status} in ${r.ms} ms`)
      }
    }

    return this.finish(deliveries)
  }

  /** Every answer 2xx: the result; otherwise a partial failure (exit 6 when a delivery got no answer, else 1). */
  private finish(deliveries: TriggerResult['deliveries'], sandbox?: unknown): TriggerResult {
    const bad = deliveries.filter(d => d.status === null || d.status < 200 || d.status >= 300)
    const result: TriggerResult = {deliveries, ok: bad.length === 0, ...(sandbox === undefined ? {} : {sandbox})}
    if (bad.length > 0) {
      const unanswered = bad.some(d => d.status === null)
      const refused = bad.some(d => d.status !== null)
      throw this.partialFailure(result, bad.map(d => ({exit: d.status === null ? ExitCode.unavailable : ExitCode.unexpected})), {
        code: unanswered ? 'unreachable' : 'rejected',
        hint: [
          ...(unanswered ? ['Is the receiver running? Start one with "pdhooks listen".'] : []),
          ...(refused ? ['Check the receiver\'s credentials or signature key.'] : []),
        ].join(' '),
        message: `${bad.length} of ${deliveries.length} deliveries were not accepted (${[...new Set(bad.map(d => d.status ?? d.error))].join(', ')}).`,
      })
    }

    return result
  }

  private list(): TriggerListResult {
    const samples = sampleCatalog()
    if (!this.jsonEnabled()) {
      this.log(table(samples, [
        {get: s => s.format, header: 'FORMAT'},
        {get: s => s.version, header: 'VERSION'},
        {get: s => s.event, header: 'EVENT'},
        {get: s => s.deliveries, header: 'DELIVERIES'},
        {get: s => s.note, header: 'NOTE'},
      ]))
    }

    return {samples}
  }

  private print(count: number, batch: (n: number) => SampleDelivery[]): TriggerPrintResult {
    const deliveries: TriggerPrintResult['deliveries'] = []
    for (let i = 0; i < count; i++) {
      for (const d of batch(i)) {
        const text = d.body.toString('utf8')
        let body: unknown = text
        try {
          body = JSON.parse(text)
        } catch {
          // --from a body that is not JSON: printed as it is
        }

        deliveries.push({body, description: d.description})
        if (!this.jsonEnabled()) this.log(typeof body === 'string' ? body : JSON.stringify(body, null, 2))
      }
    }

    return {deliveries}
  }

  private async viaSandbox(event: string): Promise<TriggerResult> {
    const {flags} = this
    const base = flags.to ? parseTargetUrl(flags.to, '--to').origin : new URL(normalizePipedriveUrl(await this.settings().value('pipedriveUrl'))).origin
    const request = sandboxRequest({
      event, format: flags.format as TriggerFormat | undefined, sets: flags.set, version: flags.version,
    })
    const {body, deliveries} = await changeInSandbox(base, request, flags.timeout * 1000)
    const what = typeof request.event === 'string' ? request.event : `${request.action}.${request.object}`
    if (deliveries.length === 0) this.log(`No active webhook matches ${what}: nothing was delivered.`)
    for (const d of deliveries) this.log(`${d.description}: ${d.status ?? `no answer (${d.error})`} in ${d.ms} ms`)
    return this.finish(deliveries, body)
  }
}
