import {BaseCommand, timeoutFlag} from '../../lib/cli/base-command.js'
import {elementsFlags, wideFlag} from '../../lib/cli/flags.js'
import {elementsBase, elementsClient} from '../../lib/core/clients.js'
import {type InstanceView, viewInstance} from '../../lib/elements/instances.js'

export interface InstanceListResult {
  instances: InstanceView[]
}

export default class InstanceList extends BaseCommand<typeof InstanceList, InstanceListResult> {
  static description = 'List Cloud Elements / Open Connectors instances with their events mode and Pipedrive webhook callback URL.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --elements-url sap-us2 --json', '<%= config.bin %> <%= command.id %> --wide']
  static flags = {...elementsFlags, timeout: timeoutFlag, wide: wideFlag}

  async run(): Promise<InstanceListResult> {
    const settings = this.settings()
    const base = await elementsBase(settings)
    const client = await elementsClient(settings, {timeoutMs: this.flags.timeout * 1000, userAgent: this.userAgent})
    const instances = (await client.listInstances()).map(i => viewInstance(i, base))
    const current = (await settings.currentInstance().catch(() => {}))?.id
    if (instances.length === 0) this.log('No instances.')
    else {
      this.printTable(instances, [
        {get: v => `${String(v.id) === String(current) ? '*' : ''}${v.id}`, header: 'ID'},
        {get: v => v.name, header: 'NAME', truncate: 'end'},
        {drop: 2, get: v => v.element, header: 'ELEMENT'},
        {drop: 1, get: v => v.events, header: 'EVENTS'},
        {
          drop: 3, get: v => v.tags.join(','), header: 'TAGS', truncate: 'end',
        },
        {get: v => v.callbackUrl, header: 'CALLBACK URL', truncate: 'middle'},
      ], {wide: this.flags.wide})
      this.noteIfCut()
    }

    return {instances}
  }
}
