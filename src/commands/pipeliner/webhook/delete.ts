import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../../lib/cli/base-command.js'
import {pipelinerFlags} from '../../../lib/cli/flags.js'
import {style} from '../../../lib/cli/output.js'
import {pipelinerClient} from '../../../lib/core/clients.js'
import {notFoundError, usageError} from '../../../lib/core/errors.js'
import {type BulkDeleteResult, BulkProgress, sumDeletes} from '../../../lib/pipedrive/webhooks.js'
import {type PipelinerWebhook} from '../../../lib/pipeliner/client.js'
import {
  deletePipelinerWebhooks, filterPipelinerWebhooks, isUuid, live, type PipelinerWebhookView, viewPipelinerWebhook,
} from '../../../lib/pipeliner/webhooks.js'

/** A webhook as a confirmation names it: id, events, URL. */
const describe = (v: PipelinerWebhookView) => `${v.id}  ${v.events.join(',')} → ${v.url}`

/** Each webhook's result; under --json with `error` when some were not deleted. */
export type PipelinerWebhookDeleteResult = BulkDeleteResult

export default class PipelinerWebhookDelete extends BaseCommand<typeof PipelinerWebhookDelete, PipelinerWebhookDeleteResult> {
  static args = {
    ids: Args.string({description: 'Webhook ids (UUIDs) to delete.'}),
  }
  static description = `Delete Pipeliner CRM webhooks by id, or every webhook (optionally only those whose URL contains --url) with --all.

Every id is checked first: one that does not exist is exit 4 and nothing is deleted. One id is deleted with DELETE /entities/Webhooks/{id}, several with POST /entities/Webhooks/batch-delete (100 per request). Asks for confirmation on a terminal, naming each webhook (events, URL); elsewhere --yes is required. Each result is printed as it is known; a webhook deleted meanwhile is fine. Interrupted (Ctrl-C, SIGTERM), it finishes the request in flight, says what was deleted and what was not, and exits 130 (143).`
  static examples = [
    '<%= config.bin %> <%= command.id %> 5e1f7f4c-2b8a-4f7e-9a51-0c7c1e6f2d10 --yes',
    '<%= config.bin %> <%= command.id %> 5e1f7f4c-2b8a-4f7e-9a51-0c7c1e6f2d10 0b9d2c55-6a43-4c1e-8f3e-2a7d9b1c4e21 --yes --json',
    '<%= config.bin %> <%= command.id %> --all --url example.com --yes',
  ]
  static flags = {
    all: Flags.boolean({description: 'Delete every webhook (only those matching --url when given).'}),
    ...pipelinerFlags,
    timeout: timeoutFlag,
    url: Flags.string({dependsOn: ['all'], description: 'With --all: only webhooks whose URL contains this text.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
  }
  static strict = false

  async run(): Promise<PipelinerWebhookDeleteResult> {
    const {flags} = this
    const ids = [...new Set(this.positional.map(id => id.trim()))]
    const stray = ids.find(id => !isUuid(id))
    if (stray) throw usageError(`Invalid Pipeliner webhook id "${stray}": ids are UUIDs.`, 'See "pdhooks pipeliner webhook list".')
    if (ids.length > 0 && flags.all) throw usageError('Give webhook ids or --all, not both.')
    if (ids.length === 0 && !flags.all) {
      throw usageError('Nothing to delete: give webhook ids, or --all.', 'See --help.', 'missing_value')
    }

    const client = await pipelinerClient(this.settings(), {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent})
    // every id is checked before anything is asked or deleted
    const all = live(await client.listAll())
    let targets: PipelinerWebhook[]
    if (flags.all) {
      targets = filterPipelinerWebhooks(all, {url: flags.url})
      if (targets.length === 0) {
        this.log('No Pipeliner webhooks match: nothing to delete.')
        return {deleted: 0, results: []}
      }
    } else {
      const byId = new Map(all.map(w => [String(w.id).toLowerCase(), w]))
      const unknown = ids.filter(id => !byId.has(id.toLowerCase()))
      if (unknown.length > 0) {
        throw notFoundError(
          `No Pipeliner webhook ${unknown.join(', ')}${unknown.length < ids.length ? ': nothing was deleted' : ''}.`,
          'See the ids with "pdhooks pipeliner webhook list".',
        )
      }

      targets = ids.map(id => byId.get(id.toLowerCase())!)
    }

    const views = targets.map(w => viewPipelinerWebhook(w))
    if (!flags.yes) for (const v of views) this.logToStderr(`  ${describe(v)}`)
    const scope = flags.all ? (flags.url ? ` whose URL contains "${flags.url}"` : ' (every webhook of the space)') : ''
    await this.confirmOrRefuse(
      views.length === 1 && !flags.all ? `Delete Pipeliner webhook ${describe(views[0]).replaceAll(/ {2}/g, ' ')}?` : `Delete these ${views.length} Pipeliner webhook(s)${scope}?`,
      flags.yes,
      `delete ${views.length} Pipeliner webhook(s)${scope}`,
    )

    const byId = new Map(views.map(v => [v.id, v]))
    const progress = new BulkProgress(views.map(v => v.id))
    const stop = this.whenInterrupted(() => progress.summary('Pipeliner webhook(s)', rest => `pdhooks pipeliner webhook delete ${rest.join(' ')} --yes`))
    const results = await deletePipelinerWebhooks(client, progress.ids, false, 4, {
      onResult: r => {
        progress.finished(r)
        const v = byId.get(String(r.id))
        const label = v ? ` (${v.events.join(',')} → ${v.url})` : ''
        if (r.status === 'deleted') this.log(`${style.green('Deleted')} Pipeliner webhook ${r.id}${label}`)
        else if (r.status === 'gone') this.log(`Pipeliner webhook ${r.id}${label} was already gone`)
        else this.logToStderr(`${style.red('Failed')} Pipeliner webhook ${r.id}${label}: ${r.error}`)
      },
      onStart: id => progress.started(String(id)),
      onUnstarted: id => progress.unstarted(String(id)),
      signal: stop.signal,
    })
    stop.throwIfInterrupted()

    const {failures, message, result} = sumDeletes(results, 'Pipeliner webhook(s)')
    if (failures.length > 0) throw this.partialFailure(result, failures, {message})
    return result
  }
}
