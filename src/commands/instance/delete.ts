import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../lib/base-command.js'
import {elementsClient, pipedriveClient} from '../../lib/clients.js'
import {ExitCode, PdhooksError, usageError} from '../../lib/errors.js'
import {elementsFlags, pipedriveFlags} from '../../lib/flags.js'
import {webhooksForInstance} from '../../lib/instances.js'
import {
  type DeleteResult, deleteWebhooks, viewWebhook, type WebhookView,
} from '../../lib/webhooks.js'

export interface InstanceDeleteResult {
  deleted: boolean
  instance: {id: number; name: null | string}
  webhooks: {
    /** Pipedrive webhooks aimed at the instance (null when Pipedrive could not be checked). */
    aimed: null | WebhookView[]
    deleted: DeleteResult[] | null
  }
}

export default class InstanceDelete extends BaseCommand<typeof InstanceDelete> {
  static args = {id: Args.string({description: 'Instance id.', required: true})}
  static description = `Delete a Cloud Elements / Open Connectors instance, and with --with-webhooks the Pipedrive webhooks aimed at it.

Pipedrive webhooks that still point at a deleted instance fail, get banned and are auto-deleted after 3 days: they are listed (any host form of the callback URL), and deleted too with --with-webhooks. Asks for confirmation on a terminal; elsewhere --yes is required.`
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
    if (!/^\d+$/.test(id)) throw usageError(`Invalid instance id "${id}": instance ids are numbers.`)
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
      this.warn(`Could not check the Pipedrive webhooks aimed at instance ${id}: ${error instanceof PdhooksError ? error.message : String(error)}`)
    }

    if (aimed && aimed.length > 0) {
      this.logToStderr(`${aimed.length} Pipedrive webhook(s) point at instance ${id}${flags['with-webhooks'] ? ' and will be deleted' : ' and will fail once it is gone'}:`)
      for (const w of aimed) this.logToStderr(`  ${w.id}  ${w.event}  ${w.url}`)
    }

    const what = `instance ${id}${instance.name ? ` "${instance.name}"` : ''}${flags['with-webhooks'] && aimed?.length ? ` and ${aimed.length} webhook(s)` : ''}`
    await this.confirmOrRefuse(`Delete ${what}?`, flags.yes, `delete ${what}`)
    await ce.deleteInstance(id)
    this.log(`Deleted instance ${id}`)
    await this.store.clearInstance(this.profile, id)

    let deleted: DeleteResult[] | null = null
    if (flags['with-webhooks'] && pd && aimed && aimed.length > 0) {
      deleted = await deleteWebhooks(pd, aimed.map(w => w.id), false)
      for (const r of deleted) {
        if (r.status === 'failed') this.logToStderr(`Failed to delete webhook ${r.id}: ${r.error}`)
        else this.log(`Deleted webhook ${r.id}`)
      }

      const failed = deleted.filter(r => r.status === 'failed')
      if (failed.length > 0) {
        throw new PdhooksError(`Instance ${id} was deleted, but ${failed.length} webhook(s) still point at it: ${failed.map(f => f.id).join(', ')}.`, {
          code: 'partial_failure',
          exit: Math.max(...failed.map(f => f.exit ?? ExitCode.unexpected)),
          hint: `Delete them with "pdhooks webhook delete ${failed.map(f => f.id).join(' ')} --yes".`,
        })
      }
    } else if (aimed && aimed.length > 0) {
      this.log(`Left ${aimed.length} Pipedrive webhook(s) pointing at it; delete them with "pdhooks webhook delete --all --instance ${id} --yes".`)
    }

    return {deleted: true, instance: {id: Number(id), name: instance.name ?? null}, webhooks: {aimed, deleted}}
  }
}
