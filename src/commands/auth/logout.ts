import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../lib/cli/base-command.js'

export interface AuthLogoutResult {
  configPath: string
  removed: string[]
}

export default class AuthLogout extends BaseCommand<typeof AuthLogout, AuthLogoutResult> {
  static description = `Remove the stored credentials (and current instance) of a profile, or of every profile with --all.

--all asks first on a terminal, and needs --yes elsewhere.`
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --profile staging', '<%= config.bin %> <%= command.id %> --all --yes']
  static flags = {
    all: Flags.boolean({description: 'Remove every profile.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask before removing every profile (--all).'}),
  }

  async run(): Promise<AuthLogoutResult> {
    let removed: string[]
    if (this.flags.all) {
      const names = this.store.listProfiles()
      if (names.length > 0) {
        await this.confirmOrRefuse(
          `Remove the stored credentials of ${names.length === 1 ? 'the only profile' : `all ${names.length} profiles`} (${names.join(', ')}) from ${this.store.path}?`,
          this.flags.yes,
          `remove ${names.length === 1 ? 'the stored profile' : `all ${names.length} stored profiles`}`,
        )
      }

      removed = await this.store.removeAll()
    } else {
      removed = (await this.store.removeProfile(this.profile)) ? [this.profile] : []
    }

    this.log(removed.length === 0
      ? `Nothing stored for ${this.flags.all ? 'any profile' : `profile "${this.profile}"`}.`
      : `Removed stored credentials of ${removed.map(p => `"${p}"`).join(', ')}.`)
    if (removed.length > 0 && Object.keys(process.env).some(k => k.startsWith('PDHOOKS_') && /TOKEN|SECRET|PASSWORD/.test(k))) {
      this.warn('PDHOOKS_* credential variables are still set in this environment.')
    }

    return {configPath: this.store.path, removed}
  }
}
