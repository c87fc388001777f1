import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../lib/cli/base-command.js'
import {basicAuthFlag, secret} from '../lib/cli/flags.js'
import {ExitCode} from '../lib/core/errors.js'
import {printable} from '../lib/deliveries/printable.js'
import {checkPipelinerKey} from '../lib/deliveries/signatures.js'
import {parseBasicAuth} from '../lib/deliveries/trigger.js'

export interface ReplayCommandResult {
  deliveries: Array<{error?: string; id: string; ms: number; source: string; status: null | number}>
  /** What to do about refused deliveries (a 401 / 403 names the flag that gives their source's auth). */
  hint?: string
  ok: boolean
  skipped: Array<{line: number; message: string}>
}

export default class Replay extends BaseCommand<typeof Replay, ReplayCommandResult> {
  static description = `Re-send deliveries journaled by "pdhooks listen --journal", byte for byte, with fresh auth.

The body and its headers are sent as received; auth that was redacted in the journal is made anew from --basic-auth, and signatures are computed afresh with --elements-key / --pipeliner-key (without a key the journaled signature is sent unchanged, and still verifies). Exits 0 only when every answer was 2xx (a 401 or 403 names the flag that authenticates those deliveries); an --id that is not in the journal is exit 4, a journal with no valid line exit 2.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --journal deliveries.ndjson --to http://localhost:3000/hooks',
    '<%= config.bin %> <%= command.id %> --journal deliveries.ndjson --to http://localhost:3000/hooks --id 3 --basic-auth hooks:s3cret',
  ]
  static flags = {
    'basic-auth': basicAuthFlag('Send Basic auth user:password with Pipedrive deliveries.'),
    'elements-key': secret('elements-key', {description: 'Re-sign Cloud Elements notifications with this key.'}),
    id: Flags.string({description: 'Only the delivery with this id.'}),
    journal: Flags.string({description: 'NDJSON journal written by "pdhooks listen --journal".', required: true}),
    'pipeliner-key': secret('pipeliner-key', {description: 'Re-sign Pipeliner deliveries with this signature UUID.'}),
    timeout: timeoutFlag,
    to: Flags.string({description: 'Where to send them.', required: true}),
  }

  async run(): Promise<ReplayCommandResult> {
    const {flags} = this
    const basicAuth = parseBasicAuth(flags['basic-auth'])
    const pipelinerKey = flags['pipeliner-key'] === undefined ? undefined : checkPipelinerKey(flags['pipeliner-key'], '--pipeliner-key')
    const {authHint, replayJournal} = await import('../lib/deliveries/replay.js')
    const skipped: ReplayCommandResult['skipped'] = []
    const results = await replayJournal({
      basicAuth,
      elementsKey: flags['elements-key'],
      id: flags.id,
      journal: flags.journal,
      onMalformed: p => {
        skipped.push(p)
        this.warn(`${flags.journal}:${p.line}: skipped (${p.message})`)
      },
      onResult: r => this.log(`${printable(r.id, 80)}  ${r.source}  → ${r.status ?? `no answer (${printable(r.error)})`} in ${r.ms} ms`),
      pipelinerKey,
      timeoutMs: flags.timeout * 1000,
      to: flags.to,
    })
    const deliveries = results.map(r => ({
      ...(r.error ? {error: r.error} : {}), id: r.id, ms: r.ms, source: r.source, status: r.status,
    }))
    const bad = deliveries.filter(d => d.status === null || d.status < 200 || d.status >= 300)
    const hint = authHint(bad.filter(d => d.status === 401 || d.status === 403), {
      '--basic-auth': Boolean(basicAuth), '--elements-key': Boolean(flags['elements-key']), '--pipeliner-key': Boolean(pipelinerKey),
    })
    const result: ReplayCommandResult = {
      deliveries, ok: bad.length === 0, skipped, ...(hint ? {hint} : {}),
    }
    if (bad.length > 0) {
      const statuses = [...new Set(bad.map(d => d.status ?? 'no answer'))].join(', ')
      throw this.partialFailure(result, bad.map(d => ({exit: d.status === null ? ExitCode.unavailable : ExitCode.unexpected})), {
        code: bad.some(d => d.status === null) ? 'unreachable' : 'rejected',
        hint,
        message: `${bad.length} of ${deliveries.length} replayed deliveries were not accepted (${statuses}).`,
      })
    }

    return result
  }
}
