import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../lib/cli/base-command.js'
import {elementsFlags, instanceIdArg, pipedriveFlags} from '../../lib/cli/flags.js'
import {elementsClient, pipedriveClient} from '../../lib/core/clients.js'
import {PdhooksError} from '../../lib/core/errors.js'
import {viewInstance, webhooksForInstance} from '../../lib/elements/instances.js'
import {
  BulkProgress, type DeleteResult, deleteWebhooks, viewWebhook, type WebhookView,
} from '../../lib/pipedrive/webhooks.js'

export interface InstanceDeleteResult {
  deleted: boolean
  instance: {id: number; name: null | string}
  webhooks: {
    /** Pipedrive webhooks aimed at the instance (null when Pipedrive could not be checked). */
    aimed: null | WebhookView[]
    deleted: DeleteResult[] | null
  }
}

export default class InstanceDelete extends BaseCommand<typeof InstanceDelete, InstanceDeleteResult> {
  static args = {id: instanceIdArg({description: 'Instance id.', required: true})}
  static description = `Delete a Cloud Elements / Open Connectors instance, and with --with-webhooks the Pipedrive webhooks aimed at it.

Pipedrive webhooks that still point at a deleted instance fail, get banned and are auto-deleted after 3 days: they are listed (any host form of the callback URL), and deleted too with --with-webhooks, each result printed as it completes. The id is checked first (exit 4). Asks for confirmation on a terminal, naming the instance and the webhooks; elsewhere --yes is required. Interrupted (Ctrl-C, SIGTERM), it finishes the request in flight, says what was deleted and what was not, and exits 130 (143).`
  static examples = [
    '<%= config.bin %> <%= command.id %> 20931',
    '<%= config.bin %> <%= command.id %> 20931 --with-webhooks --yes',
    '<%= config.bin %> <%= command.id %> 20931 --yes --json',
  ]
  static flags = {
    ...elementsFlags,
    ...pipedriveFlags,
    timeout: timeoutFlag,
    'with-webhooks': Flags.boolean({description: 'Also delete the Pipedrive webhooks aimed at the instance.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
  }

  async run(): Promise<InstanceDeleteResult> {
    const {flags} = this
    const {id} = this.args
    const settings = this.settings()
    const opts = {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent}
    const ce = await elementsClient(settings, opts)
    const instance = await ce.getInstance(id)

    let aimed: null | WebhookView[] = null
    let pd
    try {
      pd = await pipedriveClient(settings, opts)
      aimed = webhooksForInstance(await pd.listWebhooks(), id).map(w => viewWebhook(w))
    } catch (error) {
      if (flags['with-webhooks']) throw error
      this.warn(`Could not check the Pipedrive webhooks aimed at instance ${id}: ${PdhooksError.from(error).message}`)
    }

    if (aimed && aimed.length > 0) {
      this.logToStderr(`${aimed.length} Pipedrive webhook(s) point at instance ${id}${flags['with-webhooks'] ? ' and will be deleted' : ' and will fail once it is gone'}:`)
      for (const w of aimed) this.logToStderr(`  ${w.id}  ${w.event} (v${w.version}) → ${w.url}${w.name ? `  "${w.name}"` : ''}`)
    }

    const {events} = viewInstance(instance, ce.http.baseUrl)
    const what = `instance ${id}${instance.name ? ` "${instance.name}"` : ''} (events: ${events})${flags['with-webhooks'] && aimed?.length ? ` and ${aimed.length} webhook(s)` : ''}`
    await this.confirmOrRefuse(`Delete ${what}?`, flags.yes, `delete ${what}`)

    const withWebhooks = Boolean(flags['with-webhooks'] && pd && aimed && aimed.length > 0)
    const progress = new BulkProgress(withWebhooks ? aimed!.map(w => w.id) : [])
    let step: 'deleted' | 'in-flight' | 'not-started' = 'not-started'
    const stop = this.whenInterrupted(() => {
      const hooks = progress.summary('webhook(s)', rest => `pdhooks webhook delete ${rest.join(' ')} --yes`)
      const details = {instance: {id: Number(id), status: step}, webhooks: withWebhooks ? hooks.details : null}
      if (step !== 'deleted') {
        return {
          details,
          lines: [`Check with "pdhooks instance get ${id}".`],
          message: step === 'in-flight' ? `instance ${id} was being deleted: it may or may not be deleted` : `instance ${id} was not deleted`,
        }
      }

      return withWebhooks
        ? {details, lines: hooks.lines, message: `deleted instance ${id}; ${hooks.message} pointing at it`}
        : {details, message: `deleted instance ${id}`}
    })
    step = 'in-flight'
    await ce.deleteInstance(id)
    step = 'deleted'
    this.log(`Deleted instance ${id}${instance.name ? ` "${instance.name}"` : ''}`)
    await this.store.clearInstance(this.profile, id)
    stop.throwIfInterrupted()

    let deleted: DeleteResult[] | null = null
    if (withWebhooks) {
      deleted = await deleteWebhooks(pd!, progress.ids, false, 4, {
        onResult: r => {
          progress.finished(r)
          if (r.status === 'failed') this.logToStderr(`Failed to delete webhook ${r.id}: ${r.error}`)
          else this.log(`Deleted webhook ${r.id}${r.status === 'gone' ? ' (it was already gone)' : ''}`)
        },
        onStart: wid => progress.started(wid as number),
        signal: stop.signal,
      })
      stop.throwIfInterrupted()
      const failed = deleted.filter(r => r.status === 'failed')
      if (failed.length > 0) {
        throw this.partialFailure({deleted: true, instance: {id: Number(id), name: instance.name ?? null}, webhooks: {aimed, deleted}}, failed, {
          hint: `Delete them with "pdhooks webhook delete ${failed.map(f => f.id).join(' ')} --yes".`,
          message: `Instance ${id} was deleted, but ${failed.length} webhook(s) still point at it: ${failed.map(f => f.id).join(', ')}.`,
        })
      }
    } else if (aimed && aimed.length > 0) {
      this.log(`Left ${aimed.length} Pipedrive webhook(s) pointing at it; delete them with "pdhooks webhook delete --all --instance ${id} --yes".`)
    }

    return {deleted: true, instance: {id: Number(id), name: instance.name ?? null}, webhooks: {aimed, deleted}}
  }
}
