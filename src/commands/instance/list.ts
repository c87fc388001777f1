import {BaseCommand, timeoutFlag} from '../../lib/base-command.js'
import {elementsBase, elementsClient} from '../../lib/clients.js'
import {elementsFlags} from '../../lib/flags.js'
import {type InstanceView, viewInstance} from '../../lib/instances.js'
import {table} from '../../lib/output.js'

export interface InstanceListResult {
  instances: InstanceView[]
}

export default class InstanceList extends BaseCommand<typeof InstanceList> {
  static description = 'List Cloud Elements / Open Connectors instances with their events mode and Pipedrive webhook callback URL.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --elements-url sap-us2 --json']
  static flags = {...elementsFlags, timeout: timeoutFlag}

  async run(): Promise<InstanceListResult> {
    const settings = this.settings()
    const base = await elementsBase(settings)
    const client = await elementsClient(settings, {timeoutMs: this.flags.timeout * 1000, userAgent: this.userAgent})
    const instances = (await client.listInstances()).map(i => viewInstance(i, base))
    const current = (await settings.currentInstance().catch(() => {}))?.id
    if (instances.length === 0) this.log('No instances.')
    else {
      this.log(table(instances, [
        {get: v => `${String(v.id) === String(current) ? '*' : ''}${v.id}`, header: 'ID'},
        {get: v => v.name, header: 'NAME'},
        {get: v => v.element, header: 'ELEMENT'},
        {get: v => v.events, header: 'EVENTS'},
        {get: v => v.tags.join(','), header: 'TAGS'},
        {get: v => v.callbackUrl, header: 'CALLBACK URL'},
      ]))
    }

    return {instances}
  }
}
