import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../lib/cli/base-command.js'
import {instanceIdFlag, pipedriveFlags} from '../../lib/cli/flags.js'
import {style} from '../../lib/cli/output.js'
import {pipedriveClient} from '../../lib/core/clients.js'
import {notFoundError, usageError} from '../../lib/core/errors.js'
import {type Webhook} from '../../lib/pipedrive/client.js'
import {splitEvent} from '../../lib/pipedrive/events.js'
import {
  type BulkDeleteResult, BulkProgress, deleteWebhooks, filterWebhooks, sumDeletes, viewWebhook, type WebhookView,
} from '../../lib/pipedrive/webhooks.js'

/** A webhook as a confirmation names it: id, event, version, target, name. */
const describe = (v: WebhookView) => `${v.id}  ${v.event} (v${v.version}) → ${v.target}${v.name ? `  "${v.name}"` : ''}`

/** Each webhook's result; under --json with `error` when some were not deleted. */
export type WebhookDeleteResult = BulkDeleteResult

export default class WebhookDelete extends BaseCommand<typeof WebhookDelete, WebhookDeleteResult> {
  static args = {
    ids: Args.string({description: 'Webhook ids to delete.'}),
  }
  static description = `Delete Pipedrive webhooks by id, or every webhook matching filters with --all.

Every id is checked first: one that does not exist is exit 4 and nothing is deleted. Asks for confirmation on a terminal, naming each webhook (event, target, name); elsewhere --yes is required. Requests are paced from Pipedrive's rate-limit headers, and each result is printed as it completes; a webhook deleted meanwhile is fine. Interrupted (Ctrl-C, SIGTERM), it finishes the requests in flight, says what was deleted and what was not, and exits 130 (143).`
  static examples = [
    '<%= config.bin %> <%= command.id %> 123 456 --yes',
    '<%= config.bin %> <%= command.id %> --all --mine --yes',
    '<%= config.bin %> <%= command.id %> --all --instance 20931 --yes',
    "<%= config.bin %> <%= command.id %> --all --url example.com --event '*.deal' --yes --json",
  ]
  static flags = {
    all: Flags.boolean({description: 'Delete every webhook matching the filters.'}),
    concurrency: Flags.integer({
      default: 4, description: 'Requests in flight at once.', max: 16, min: 1,
    }),
    event: Flags.string({description: 'With --all: only webhooks matching ACTION.OBJECT.'}),
    instance: instanceIdFlag({description: 'With --all: only webhooks aimed at this Cloud Elements instance.'}),
    mine: Flags.boolean({description: 'With --all: only webhooks pdhooks created (name starts with "pdhooks").'}),
    ...pipedriveFlags,
    timeout: timeoutFlag,
    unhealthy: Flags.boolean({description: 'With --all: only webhooks whose health is not ok.'}),
    url: Flags.string({description: 'With --all: only webhooks whose URL contains this text.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
  }
  static strict = false

  async run(): Promise<WebhookDeleteResult> {
    const {flags} = this
    const ids = [...new Set(this.positional)]
    const stray = ids.find(id => !/^\d+$/.test(id))
    if (stray) throw usageError(`Invalid webhook id "${stray}": ids are numbers.`)
    const filtered = Boolean(flags.url || flags.event || flags.instance || flags.mine || flags.unhealthy)
    if (ids.length > 0 && flags.all) throw usageError('Give webhook ids or --all, not both.')
    if (ids.length === 0 && !flags.all) {
      throw usageError('Nothing to delete: give webhook ids, or --all with filters.', filtered ? 'Filters need --all.' : 'See --help.', 'missing_value')
    }

    if (flags.event) splitEvent(flags.event)
    const client = await pipedriveClient(this.settings(), {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent})
    // every id is checked before anything is asked or deleted
    const all = await client.listWebhooks()
    let targets: Webhook[]
    if (flags.all) {
      targets = filterWebhooks(all, flags)
      if (targets.length === 0) {
        this.log('No webhooks match: nothing to delete.')
        return {deleted: 0, results: []}
      }
    } else {
      const byId = new Map(all.map(w => [String(w.id), w]))
      const unknown = ids.filter(id => !byId.has(id))
      if (unknown.length > 0) {
        throw notFoundError(
          `No webhook ${unknown.join(', ')}${unknown.length < ids.length ? ': nothing was deleted' : ''}.`,
          'See the ids with "pdhooks webhook list".',
        )
      }

      targets = ids.map(id => byId.get(id)!)
    }

    const views = targets.map(w => viewWebhook(w))
    if (!flags.yes) for (const v of views) this.logToStderr(`  ${describe(v)}`)
    const scope = flags.all ? (filtered ? ' matching the filters' : ' (every webhook of the account)') : ''
    await this.confirmOrRefuse(
      views.length === 1 && !flags.all ? `Delete webhook ${describe(views[0]).replaceAll(/ {2}/g, ' ')}?` : `Delete these ${views.length} webhook(s)${scope}?`,
      flags.yes,
      `delete ${views.length} webhook(s)${scope}`,
    )

    const byId = new Map(views.map(v => [v.id, v]))
    const progress = new BulkProgress(views.map(v => v.id))
    const stop = this.whenInterrupted(() => progress.summary('webhook(s)', rest => `pdhooks webhook delete ${rest.join(' ')} --yes`))
    const results = await deleteWebhooks(client, progress.ids, false, flags.concurrency, {
      onResult: r => {
        progress.finished(r)
        const v = byId.get(r.id as number)
        const label = v ? ` (${v.event} → ${v.target})` : ''
        if (r.status === 'deleted') this.log(`${style.green('Deleted')} webhook ${r.id}${label}`)
        else if (r.status === 'gone') this.log(`Webhook ${r.id}${label} was already gone`)
        else this.logToStderr(`${style.red('Failed')} webhook ${r.id}${label}: ${r.error}`)
      },
      onStart: id => progress.started(id as number),
      signal: stop.signal,
    })
    stop.throwIfInterrupted()

    const {failures, message, result} = sumDeletes(results, 'webhook(s)')
    if (failures.length > 0) throw this.partialFailure(result, failures, {message})
    return result
  }
}
